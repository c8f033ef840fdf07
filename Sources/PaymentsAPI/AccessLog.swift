import Dispatch
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-Id")!
}

/// Gives every request an id and, when `enabled`, logs one line per request at info:
/// method, route pattern, path, status, milliseconds, request id, and `key_id` (the
/// configured id of the key presented, set on the request's logger by
/// `APIKeyIdentification`; absent when no configured key matched; never the key or its
/// hash). The id is the client's `X-Request-Id` when it is a plain token (1-64 of
/// `A-Za-z0-9._-`), else a new random one; it is echoed in the response and carried by
/// every log line the request causes.
struct AccessLog<Context: RequestContext>: RouterMiddleware {
    let enabled: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let id = Self.requestID(request.headers[.xRequestID])
        var context = context
        context.logger[metadataKey: "request_id"] = .string(id)
        let start = DispatchTime.now().uptimeNanoseconds
        var response = try await next(request, context)
        response.headers[.xRequestID] = id
        if enabled {
            Self.write(
                context.logger, method: request.method.rawValue, route: context.endpointPath ?? "unmatched",
                path: request.uri.path, status: response.status.code, since: start)
        }
        return response
    }

    /// The access log's line for one answered request (the read fast path writes it too).
    static func write(_ logger: Logger, method: String, route: String, path: String, status: Int, since start: UInt64) {
        let micros = (DispatchTime.now().uptimeNanoseconds &- start) / 1_000
        logger.info(
            "request",
            metadata: [
                "http.method": "\(method)", "http.route": "\(route)", "http.path": "\(path)",
                "http.status": "\(status)",
                "duration_ms": "\(micros / 1_000).\(String(micros % 1_000 + 1_000).dropFirst())",
            ])
    }

    /// The client's id when it is a plain token, else 16 random hex digits.
    static func requestID(_ offered: String?) -> String {
        if let offered, (1...64).contains(offered.utf8.count),
            offered.utf8.allSatisfy({
                ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2E || $0 == 0x5F
                    || $0 == 0x2D
            })
        {
            return offered
        }
        // A random prefix drawn once per process and a counter: unique per process, and
        // with no system call per request (each `random` is a getrandom call on Linux).
        let n = RequestIDs.prefix << 32 | UInt64(RequestIDs.counter.wrappingAdd(1, ordering: .relaxed).oldValue)
        let hex = String(n, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// What new request ids are made of.
enum RequestIDs {
    static let prefix = UInt64(UInt32.random(in: .min ... .max))
    static let counter = Atomic<UInt32>(0)
}
