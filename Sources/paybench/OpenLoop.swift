import Foundation

/// Runs `body(i)` for i in 0..<rate*seconds on a fixed schedule (open loop: the i-th call
/// starts at i/rate seconds whatever the earlier ones are doing), each in its own task,
/// and returns once all have finished. `admit` may turn a call away (an overloaded run
/// skips it rather than queue without bound).
func openLoop(
    rate: Int, seconds: Int, admit: @escaping @Sendable () -> Bool = { true },
    _ body: @escaping @Sendable (Int) async throws -> Void
) async throws {
    let total = rate * seconds
    let start = now()
    try await withThrowingTaskGroup(of: Void.self) { group in
        var sent = 0
        while sent < total {
            let due = min(total, Int((now() - start) * Double(rate)) + 1)
            while sent < due {
                let i = sent
                sent += 1
                guard admit() else { continue }
                group.addTask { try await body(i) }
            }
            try await Task.sleep(for: .microseconds(500))
        }
        try await group.waitForAll()
    }
}
