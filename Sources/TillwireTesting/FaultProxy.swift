import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy between two processes that a test controls, to break the link between them the ways networks break:
/// refuse connections, delay, black-hole (take the bytes, never answer), reset a request half-way, or let the
/// request through and reset the connection before the answer gets back. Plain sockets and a thread per direction:
/// it carries a test's traffic, not a load. Changing the mode cuts every open connection, as a link going down does.
public final class FaultProxy: Sendable {
    public enum Mode: Sendable, Hashable {
        /// Bytes flow both ways.
        case pass
        /// New connections are reset at once (a host that is down, a firewall that rejects).
        case refuse
        /// Each chunk towards the target waits this long first.
        case delay(Duration)
        /// Connections are accepted and read, and nothing ever comes back (a dead route; the client's timeout ends it).
        case blackHole
        /// Half of the first chunk of each connection reaches the target, then both sides are reset.
        case resetMidRequest
        /// Requests reach the target whole; its answers are dropped and the client's connection reset: the target
        /// acted, and the client does not know.
        case loseAnswers
    }

    public let port: Int
    let target: Int
    let listener: Int32
    let state = Mutex<(mode: Mode, open: Set<Int32>, accepted: Int, stopped: Bool)>((.pass, [], 0, false))

    /// Listens on 127.0.0.1 on a free port and forwards to 127.0.0.1:`target`.
    public init(target: Int) throws {
        self.target = target
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProxyError("socket: \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else { close(fd); throw ProxyError("bind/listen: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    public var mode: Mode { state.withLock { $0.mode } }
    /// Connections taken since the start.
    public var accepted: Int { state.withLock { $0.accepted } }

    /// Switches the mode; every open connection is reset. The resets happen under the lock: a socket leaves the open
    /// set (under the lock) before it is closed, so no number reset here can have been closed and reused meanwhile.
    public func set(_ mode: Mode) {
        state.withLock { state in
            state.mode = mode
            for fd in state.open { Self.reset(fd) }
            state.open = []
        }
    }

    /// Stops taking connections and resets the open ones. Again does nothing.
    public func stop() {
        let first = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        guard first else { return }
        set(.refuse)
        // Shut down, not closed: the accept loop may still be in accept(); it ends on the error and closes it.
        shutdown(listener, Int32(SHUT_RDWR))
    }

    // MARK: Inside

    func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if state.withLock({ $0.stopped }) {
                    close(listener)
                    return
                }
                // EINTR, ECONNABORTED, EMFILE: the proxy lives on.
                Thread.sleep(forTimeInterval: 0.01)
                continue
            }
            let mode = state.withLock { state -> Mode in
                state.accepted += 1
                return state.mode
            }
            switch mode {
            case .refuse:
                Self.reset(client)
                close(client)
            case .blackHole:
                track(client)
                Thread.detachNewThread { [self] in
                    var buffer = [UInt8](repeating: 0, count: 65_536)
                    while read(client, &buffer, buffer.count) > 0 {}
                    untrack(client)
                    close(client)
                }
            default:
                let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var address = Self.loopback(port: target)
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                guard connected == 0 else {
                    close(server)
                    Self.reset(client)
                    close(client)
                    continue
                }
                track(client)
                track(server)
                let pair = Pair(client, server)
                Thread.detachNewThread { [self] in pump(from: client, to: server, towardsTarget: true, pair) }
                Thread.detachNewThread { [self] in pump(from: server, to: client, towardsTarget: false, pair) }
            }
        }
    }

    /// The two sockets of one connection, closed once both directions have ended.
    final class Pair: Sendable {
        let client: Int32
        let server: Int32
        let ended = Mutex(0)

        init(_ client: Int32, _ server: Int32) {
            self.client = client
            self.server = server
        }

        func end() {
            guard ended.withLock({ count -> Bool in
                count += 1
                return count == 2
            }) else { return }
            close(client)
            close(server)
        }
    }

    func pump(from source: Int32, to destination: Int32, towardsTarget: Bool, _ pair: Pair) {
        defer {
            untrack(source)
            untrack(destination)
            pair.end()
        }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var first = true
        while true {
            let count = read(source, &buffer, buffer.count)
            guard count > 0 else { break }
            var length = count
            switch state.withLock({ $0.mode }) {
            case .delay(let pause) where towardsTarget:
                Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18)
            case .resetMidRequest where towardsTarget && first:
                _ = send(destination, buffer, max(1, count / 2), Int32(MSG_NOSIGNAL))
                Self.reset(source)
                Self.reset(destination)
                return
            case .loseAnswers where !towardsTarget, .refuse, .blackHole:
                Self.reset(source)
                Self.reset(destination)
                return
            default:
                break
            }
            first = false
            var offset = 0
            while offset < length {
                let written = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + offset, length - offset, Int32(MSG_NOSIGNAL)) }
                guard written > 0 else { break }
                offset += written
            }
            if offset < length { break }
            length = 0
        }
        // One side ended: end the other (its pump then ends too).
        shutdown(destination, Int32(SHUT_WR))
        if !towardsTarget { shutdown(source, Int32(SHUT_RD)) }
    }

    func track(_ fd: Int32) { state.withLock { _ = $0.open.insert(fd) } }
    func untrack(_ fd: Int32) { state.withLock { _ = $0.open.remove(fd) } }

    /// Closes with a reset (SO_LINGER 0), as a broken link looks to both ends.
    static func reset(_ fd: Int32) {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        shutdown(fd, Int32(SHUT_RDWR))
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

public struct ProxyError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
