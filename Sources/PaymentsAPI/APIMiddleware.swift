import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ReplicaCore

extension HTTPField.Name {
    static let xRegion = Self("X-Region")!
    static let xSessionToken = Self("X-Session-Token")!
    static let xDurability = Self("X-Durability")!
    static let xDurabilityAchieved = Self("X-Durability-Achieved")!
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}

/// Inside the key identification, trace, request-metrics and access-log middleware,
/// outside the routes and the API-key check: turns every error into the contract's JSON error body with the
/// right status (never a bare 500 for bad input), and puts `X-Region` on every response.
struct ErrorBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    let region: RegionID
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = Self.response(error)
        } catch is NIOTooManyBytesError {
            response = Self.response(
                APIError(.contentTooLarge, "body_too_large", "the request body is larger than the limit"))
        } catch let error as HTTPError {
            response = Self.response(Self.translate(error, request: request, routes: routes))
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            response = Self.response(
                APIError(.internalServerError, "internal", "the server failed to handle this request"))
        }
        response.headers[.xRegion] = region.name
        return response
    }

    static func response(_ error: APIError) -> Response {
        Response(status: error.status, headers: headers(error), body: .init(byteBuffer: ByteBuffer(string: error.json)))
    }

    /// The headers of `error`'s answer (the create fast path answers with them too).
    static func headers(_ error: APIError) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json"]
        if error.status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let allow = error.allow { headers[.allow] = allow.joined(separator: ", ") }
        if let seconds = error.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
        return headers
    }

    static func translate(_ error: HTTPError, request: Request, routes: RouteTable) -> APIError {
        switch error.status {
        case .contentTooLarge: APIError(.contentTooLarge, "body_too_large", "the request body is larger than the limit")
        case .notFound:
            if let allowed = routes.methods(for: request.uri.path) {
                APIError(
                    .methodNotAllowed, "method_not_allowed",
                    "\(request.method) is not allowed on \(request.uri.path); use \(allowed.joined(separator: ", "))",
                    allow: allowed)
            } else {
                APIError(.notFound, "not_found", "no route \(request.method) \(request.uri.path)")
            }
        case .methodNotAllowed:
            APIError(.methodNotAllowed, "method_not_allowed", "\(request.method) is not allowed on \(request.uri.path)")
        case .badRequest: APIError.malformed(error.body ?? "malformed request")
        default: APIError(error.status, "http_error", error.body ?? error.status.reasonPhrase)
        }
    }
}
