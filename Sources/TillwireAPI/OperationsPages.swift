import Foundation
import HTTPTypes
import Hummingbird
import TillwireEngine
import TillwireStorage

/// `/ui`: the operations pages, server-rendered HTML without script. A browser signs in with an admin key; the key
/// is kept in an HttpOnly, SameSite=Strict cookie that only `/ui` receives, and every request passes the same
/// `Gatekeeper` as the API with it, so a revoked key is signed out within a second and every replay is audited.
enum OperationsPages {
    static let cookie = "tillwire_key"
    /// How long a browser stays signed in.
    static let signedInFor = 8 * 3600

    static func add(to router: Router<HubRequestContext>, store: any Store, gate: Gatekeeper, systems: SystemGate?,
                    operations: OperationsMonitor? = nil, storeAgents: StoreAgents? = nil, orders: OrderService? = nil) {
        router.get("/ui/login") { request, _ -> Response in
            let refused = request.uri.queryParameters["refused"].map(String.init)
            return page("Sign in", signedIn: false, """
                <h1>Sign in</h1>
                \(refused.map { "<p class=\"error\">\(escape($0))</p>" } ?? "")
                <form method="post" action="/ui/login">
                  <label>Admin API key <input type="password" name="key" autocomplete="off" required></label>
                  <button type="submit">Sign in</button>
                </form>
                <p>Create one with <code>tillwire keys create --client ops --scope admin</code>.</p>
                """)
        }

        router.post("/ui/login") { request, context -> Response in
            try requireSameOrigin(request)
            let form = try await formFields(request, context: context)
            guard let key = form["key"], ApiKeys.id(of: key) != nil, key.unicodeScalars.allSatisfy(isKeyCharacter) else {
                return redirect("/ui/login?refused=" + query("that is not a Tillwire API key"))
            }
            // The key is checked by the gate on the next page, like every request after it.
            var response = redirect("/ui/overview")
            response.headers[.setCookie] = "\(cookie)=\(key); Path=/ui; Max-Age=\(signedInFor); HttpOnly; SameSite=Strict"
            return response
        }

        router.post("/ui/logout") { request, _ -> Response in
            try requireSameOrigin(request)
            var response = redirect("/ui/login")
            response.headers[.setCookie] = "\(cookie)=; Path=/ui; Max-Age=0; HttpOnly; SameSite=Strict"
            return response
        }

        let pages = router.group("/ui").add(middleware: BrowserSession()).add(middleware: gate).add(middleware: RequireScope("admin"))

        pages.get("/") { _, _ in redirect("/ui/overview") }
        addOverview(to: pages, store: store, operations: operations, storeAgents: storeAgents)
        addLookup(to: pages, store: store, orders: orders ?? OrderService(store: store))

        pages.get("/jobs") { request, _ -> Response in
            let name = request.uri.queryParameters["state"].map(String.init) ?? JobState.pending.rawValue
            guard let state = JobState(rawValue: name) else {
                throw Problem.invalid("state is one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))", field: "state")
            }
            let jobs = try await store.jobs(in: state, limit: 200)
            let now = Date()
            var rows = ""
            for job in jobs {
                let why = try await explain(job, store: store, systems: systems, now: now)
                rows += """
                    <tr><td><a href="/ui/jobs/\(escape(job.id.rawValue))">\(escape(job.id.rawValue))</a></td>\
                    <td>\(escape(job.kind))</td><td>\(escape(job.partitionKey ?? "-"))</td>\
                    <td>\(job.attempts)/\(job.maxAttempts)</td><td>\(escape(why))</td></tr>

                    """
            }
            let tabs = JobState.allCases.map { tab in
                tab == state ? "<strong>\(tab.rawValue)</strong>" : "<a href=\"/ui/jobs?state=\(tab.rawValue)\">\(tab.rawValue)</a>"
            }.joined(separator: " · ")
            return page("Jobs", signedIn: true, """
                <h1>Jobs</h1>
                \(systemsTable(systems, now: now))
                <p>\(tabs)</p>
                <table><thead><tr><th>job</th><th>kind</th><th>partition key</th><th>attempts</th><th>why it is here</th></tr></thead>
                <tbody>
                \(rows.isEmpty ? "<tr><td colspan=\"5\">no \(state.rawValue) jobs</td></tr>" : rows)
                </tbody></table>
                <p>\(jobs.count) \(state.rawValue) job\(jobs.count == 1 ? "" : "s")\(jobs.count == 200 ? " (the first 200)" : "")</p>
                """)
        }

        pages.get("/jobs/{id}") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let job = try await store.job(JobID(trusted: id)) else { throw Problem.notFound("no job \(id) (completed jobs are deleted)") }
            let why = try await explain(job, store: store, systems: systems, now: Date())
            let replays = try await store.replays(of: job.id).map { replay in
                "<li>\(escape(replay.replayedAt.ISO8601Format())) by \(escape(replay.replayedBy)): \(escape(replay.reason))</li>"
            }.joined()
            let replayForm = job.state != .dead ? "" : """
                <form method="post" action="/ui/jobs/\(escape(job.id.rawValue))/replay">
                  <label>Why replay it (kept in the audit) <input name="reason" required></label>
                  <button type="submit">Replay</button>
                </form>
                """
            return page("Job \(job.id.rawValue)", signedIn: true, """
                <h1>Job \(escape(job.id.rawValue))</h1>
                <dl>
                <dt>kind</dt><dd>\(escape(job.kind))</dd>
                <dt>state</dt><dd>\(job.state.rawValue)</dd>
                <dt>why it is here</dt><dd>\(escape(why))</dd>
                <dt>partition key</dt><dd>\(escape(job.partitionKey ?? "-"))</dd>
                <dt>attempts</dt><dd>\(job.attempts) of \(job.maxAttempts)</dd>
                <dt>last error</dt><dd>\(escape(job.lastError ?? "-"))</dd>
                <dt>created</dt><dd>\(job.createdAt.ISO8601Format())</dd>
                </dl>
                <h2>Payload</h2><pre>\(escape(String(decoding: job.payload, as: UTF8.self)))</pre>
                <h2>Replays</h2>\(replays.isEmpty ? "<p>none</p>" : "<ul>\(replays)</ul>")
                \(replayForm)
                <p><a href="/ui/jobs?state=\(job.state.rawValue)">all \(job.state.rawValue) jobs</a></p>
                """)
        }

        pages.post("/jobs/{id}/replay") { request, context -> Response in
            let id = JobID(trusted: try context.parameters.require("id"))
            let reason = try await formFields(request, context: context)["reason"]?.trimmingCharacters(in: .whitespaces) ?? ""
            guard !reason.isEmpty else { throw Problem.invalid("say why the job is replayed; it is kept in the audit", field: "reason") }
            guard let job = try await store.job(id), job.state == .dead else { throw Problem.invalid("job \(id) is not a dead job", field: "id") }
            let actor = context.client.map { "\($0.client) (key \($0.keyID), dashboard)" } ?? "unknown"
            _ = try await store.replayDeadJobs([job.id], by: actor, reason: reason, now: Date())
            return redirect("/ui/jobs/\(query(id.rawValue))")
        }
    }

    /// Why a job is where it is, as `tillwire jobs` says it.
    static func explain(_ job: Job, store: any Store, systems: SystemGate?, now: Date) async throws -> String {
        let ahead = job.state == .pending && job.partitionKey != nil ? try await store.jobAhead(of: job.id) : nil
        return JobWaitReason.explain(job, ahead: ahead, block: systems?.block(SystemGate.system(ofKind: job.kind), at: now), now: now)
    }

    static func systemsTable(_ systems: SystemGate?, now: Date) -> String {
        guard let systems, !systems.names.isEmpty else { return "<p>No external systems are configured (<code>systems.*</code>).</p>" }
        let rows = systems.names.map { name in
            let breaker: String = switch systems.breakerState(name) {
            case .open(let until): "open until \(until.ISO8601Format())"
            case .halfOpen: "half-open (probing)"
            case .closed: "closed"
            case nil: "-"
            }
            let block = systems.block(name, at: now).map { "\($0.cause.rawValue) until \($0.until.ISO8601Format())" } ?? "open for work"
            return "<tr><td>\(escape(name))</td><td>\(escape(breaker))</td><td>\(escape(block))</td></tr>"
        }.joined(separator: "\n")
        return """
            <h2>Systems</h2>
            <table><thead><tr><th>system</th><th>circuit</th><th>jobs</th></tr></thead><tbody>
            \(rows)
            </tbody></table>
            """
    }

    static func page(_ title: String, signedIn: Bool, _ body: String) -> Response {
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>\(escape(title)) · Tillwire</title>
            <style>
            body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem; color: #1d1d1f; }
            table { border-collapse: collapse; margin: .5rem 0 1rem; }
            th, td { border-bottom: 1px solid #ddd; padding: .3rem .7rem; text-align: left; vertical-align: top; }
            dt { font-weight: 600; } dd { margin: 0 0 .5rem; } pre { background: #f5f5f7; padding: .7rem; overflow-x: auto; }
            .error, .bad { color: #b00020; } .good { color: #1b7f3b; } .muted { color: #6e6e73; }
            header { display: flex; gap: 1.5rem; align-items: baseline; border-bottom: 1px solid #ddd; padding-bottom: .5rem; }
            nav a { margin-right: .8rem; } td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
            .cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: .5rem 0 1rem; }
            .card { border: 1px solid #ddd; border-radius: 6px; padding: .6rem .8rem; min-width: 11rem; }
            .card .value { font-size: 1.6rem; font-weight: 600; } .card .label { color: #6e6e73; font-size: .85rem; }
            svg.spark { display: block; margin-top: .3rem; } svg.spark polyline { fill: none; stroke: #0a64c8; stroke-width: 1.5; }
            ol.timeline { list-style: none; padding-left: 0; border-left: 2px solid #ddd; }
            ol.timeline li { margin: 0 0 .6rem; padding-left: .8rem; } ol.timeline .system { font-weight: 600; }
            </style></head><body>
            <header><strong>Tillwire operations</strong>\(signedIn ? """
             <nav><a href="/ui/overview">overview</a> <a href="/ui/jobs">jobs</a> <a href="/ui/jobs?state=dead">dead letters</a> \
            <a href="/ui/store-agents">store agents</a> <a href="/ui/lookup">lookup</a></nav>\
            <form method="post" action="/ui/logout"><button type="submit">sign out</button></form>
            """ : "")</header>
            \(body)
            </body></html>
            """
        // No script, no frames, no outside resources: a page injected into cannot run or send anything. (Referrer-Policy
        // same-origin, not no-referrer: with no-referrer a browser posts forms with `Origin: null`, which the CSRF check refuses.)
        return Response(status: .ok, headers: [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff", HTTPField.Name("Referrer-Policy")!: "same-origin",
        ], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// The characters of an API key (`tw_`, hex, base64url): nothing that could end or extend a cookie.
    static func isKeyCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_" || scalar == "-")
    }

    /// Refuses a form posted from another site (cross-site request forgery): a browser says where a request comes
    /// from in `Origin` and `Sec-Fetch-Site`; a request that names another origin is a 403. Callers that are not
    /// browsers send neither and pass (they need the key anyway).
    static func requireSameOrigin(_ request: Request) throws {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], !["same-origin", "none"].contains(site) {
            throw Problem.forbidden("a form of the operations pages must be posted from the pages themselves (Sec-Fetch-Site: \(site))")
        }
        if let origin = request.headers[.origin] {
            let host = request.head.authority ?? ""
            guard let url = URL(string: origin), let originHost = url.host,
                  "\(originHost)\(url.port.map { ":\($0)" } ?? "")" == host else {
                throw Problem.forbidden("a form of the operations pages must be posted from the pages themselves (Origin: \(origin.prefix(100)))")
            }
        }
    }

    /// Percent-encodes all but the unreserved characters (RFC 3986), for a query value or a path segment.
    static func query(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// The fields of an `application/x-www-form-urlencoded` body.
    static func formFields(_ request: Request, context: HubRequestContext) async throws -> [String: String] {
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (part: Substring) in String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decode(parts[0]), let value = parts.count == 2 ? decode(parts[1]) : "" else {
                throw Problem.invalid("the form is not valid application/x-www-form-urlencoded")
            }
            fields[name] = value
        }
        return fields
    }
}

/// Turns the sign-in cookie into the `Authorization` header the gate reads, and sends a browser without one, or
/// with a key the gate refuses, to the sign-in page instead of answering with problem+json.
struct BrowserSession: RouterMiddleware {
    typealias Context = HubRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key = Self.key(in: request.headers[values: .cookie]) else {
            return OperationsPages.redirect("/ui/login")
        }
        if request.method != .get && request.method != .head { try OperationsPages.requireSameOrigin(request) }
        var head = request.head
        head.headerFields[.authorization] = "Bearer \(key)"
        do {
            return try await next(Request(head: head, body: request.body), context)
        } catch let problem as Problem where [401, 403].contains(problem.statusCode) {
            return OperationsPages.redirect("/ui/login?refused=" + OperationsPages.query(problem.detail))
        } catch {
            // A person reads these pages: the problem as a page, with its status (and its cause in the log).
            let problem = Problem(error)
            if problem.statusCode >= 500 {
                context.logger.error("operations page failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            }
            var response = OperationsPages.page(problem.title, signedIn: true, """
                <h1>\(OperationsPages.escape(problem.title))</h1>
                <p class="error">\(OperationsPages.escape(problem.detail))</p>
                <p><a href="/ui/overview">back to the overview</a></p>
                """)
            response.status = .init(code: problem.statusCode)
            return response
        }
    }

    static func key(in cookies: [String]) -> String? {
        for header in cookies {
            for pair in header.split(separator: ";") {
                let trimmed = pair.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix(OperationsPages.cookie + "=") {
                    let value = String(trimmed.dropFirst(OperationsPages.cookie.count + 1))
                    return value.isEmpty ? nil : value
                }
            }
        }
        return nil
    }
}
