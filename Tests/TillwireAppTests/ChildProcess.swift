import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// The `tillwire` executable built beside the test bundle. Fails loudly when it is missing.
func tillwireExecutable() throws -> URL {
    if let given = ProcessInfo.processInfo.environment["TILLWIRE_BIN"] { return URL(fileURLWithPath: given) }
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var folder = beside.deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = folder.appendingPathComponent("tillwire")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        folder = folder.deletingLastPathComponent()
    }
    throw ChildProcessError("the tillwire executable was not found beside \(beside.path); run `swift build` first or set TILLWIRE_BIN")
}

struct ChildProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A child process whose standard output and error are collected line by line on background threads.
final class ChildProcess: Sendable {
    let process: Process
    private let output = Mutex<[String]>([])
    private let errors = Mutex<String>("")
    private let finished = DispatchGroup()

    init(_ executable: URL, _ arguments: [String], environment: [String: String]) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        self.process = process
        try process.run()
        finished.enter()
        finished.enter()
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending = Data(pending[(newline + 1)...])
                    output.withLock { $0.append(line) }
                }
            }
            finished.leave()
        }
        Thread.detachNewThread { [self] in
            while true {
                let chunk = err.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                errors.withLock { $0 += String(decoding: chunk, as: UTF8.self) }
            }
            finished.leave()
        }
    }

    /// A test that fails before it stops its child must not leave the child running (a hub holding a port).
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    var lines: [String] { output.withLock { $0 } }
    var standardError: String { errors.withLock { $0 } }

    /// Waits until `condition` holds on the output so far, or fails after `timeout` seconds.
    func wait(timeout: TimeInterval, _ what: String, until condition: () -> Bool) async throws {
        let deadline = Date() + timeout
        while !condition() {
            guard Date() < deadline, process.isRunning || condition() else {
                throw ChildProcessError("timed out waiting for \(what); stderr:\n\(standardError.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until an asynchronous check (an API call, a fake's state) holds, or fails after `timeout` seconds.
    func eventually(_ what: String, timeout: TimeInterval = 30, _ condition: () async throws -> Bool) async throws {
        let deadline = Date() + timeout
        while try await !condition() {
            guard Date() < deadline, process.isRunning else {
                throw ChildProcessError("timed out waiting for \(what); stderr:\n\(standardError.suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for exit and for both pipes to close; returns the exit status.
    func exit(timeout: TimeInterval = 30) async throws -> Int32 {
        let deadline = Date() + timeout
        while process.isRunning {
            guard Date() < deadline else {
                // What the kernel says of it (running, sleeping, a zombie; its threads), to tell a hang from a starved machine.
                let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8))?
                    .split(separator: "\n").filter { $0.hasPrefix("State") || $0.hasPrefix("Threads") }.joined(separator: ", ") ?? "-"
                let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "-"
                signal(SIGKILL)
                throw ChildProcessError("the process did not exit in \(timeout) s (\(status); load \(load.trimmingCharacters(in: .whitespacesAndNewlines))); stderr:\n\(standardError.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        _ = finished.wait(timeout: .now() + 10)
        return process.terminationStatus
    }
}

/// Runs `tillwire` with `arguments` on the SQLite file `database` to its end; returns its exit status and everything
/// it printed (standard output, then standard error).
func runTillwire(_ arguments: [String], database: String, timeout: TimeInterval = 30) async throws -> (status: Int32, output: String) {
    let child = try ChildProcess(try tillwireExecutable(), arguments, environment: ["TILLWIRE_STORAGE_SQLITE_PATH": database])
    let status = try await child.exit(timeout: timeout)
    return (status, child.lines.joined(separator: "\n") + "\n" + child.standardError)
}

extension ChildProcess {
    /// Waits for `tillwire serve`'s "tillwire is serving" log line and returns the address it names.
    func servingAddress(timeout: TimeInterval = 60, marker: String = "tillwire is serving") async throws -> String {
        var address: String?
        try await wait(timeout: timeout, "the serving log line") {
            address = standardError.split(separator: "\n").lazy.compactMap { line -> String? in
                guard line.contains(marker), let range = line.range(of: "address=") else { return nil }
                return String(line[range.upperBound...].prefix { $0 != " " && $0 != "]" })
            }.first
            return address != nil
        }
        guard let address else { throw ChildProcessError("no address in the serving log line") }
        return address
    }
}

/// A call to a running hub with an API key; the status and the JSON body (empty when it is not an object).
func call(_ base: String, _ method: String, _ path: String, key: String, _ body: String? = nil) async throws -> (Int, [String: Any]) {
    var request = URLRequest(url: URL(string: base + path)!)
    request.httpMethod = method
    request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
    if let body {
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
    }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
}
