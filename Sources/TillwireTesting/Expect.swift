/// A failed expectation in a conformance case, with where it failed. Test targets run the cases and report these.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public let message: String
    public let file: StaticString
    public let line: UInt

    public var description: String { "\(file):\(line): \(message)" }
}

public func expect(
    _ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line
) throws {
    if !condition { throw ConformanceFailure(message: message(), file: file, line: line) }
}

public func expectEqual<T: Equatable>(
    _ actual: T, _ expected: T, _ what: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) throws {
    if actual != expected {
        throw ConformanceFailure(message: "\(what()): expected \(expected), got \(actual)", file: file, line: line)
    }
}

/// Runs `body` and returns the error it throws; fails when it throws nothing.
@discardableResult
public func expectError<T>(
    _ what: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line,
    _ body: () async throws -> T
) async throws -> any Error {
    do {
        let value = try await body()
        throw ConformanceFailure(message: "\(what()): expected an error, got \(value)", file: file, line: line)
    } catch let failure as ConformanceFailure {
        throw failure
    } catch {
        return error
    }
}
