import HTTPTypes
import Hummingbird
import Synchronization

/// The API's routes as they were registered: each path pattern with its methods and the
/// scope each needs (nil: open to all). A request for a known path with a method it does
/// not take is answered 405 with `Allow` (the router alone would say 404). Filled while
/// the router is built, read afterwards; tests hold it equal to openapi.yaml's paths and
/// per-operation scopes.
final class RouteTable: Sendable {
    private struct Route {
        let pattern: [Substring]
        var methods: [(method: String, scope: APIScope?)]
    }

    private let routes = Mutex<[Route]>([])

    /// Every pattern with its methods, in registration order (`/v1/payments/{id}`, `["GET", "PATCH"]`).
    var all: [(path: String, methods: [String])] {
        routes.withLock { $0.map { (Self.path($0.pattern), $0.methods.map(\.method)) } }
    }

    /// Every operation with the scope it needs (nil: none), in registration order.
    var scopes: [(path: String, method: String, scope: APIScope?)] {
        routes.withLock { routes in
            routes.flatMap { route in route.methods.map { (Self.path(route.pattern), $0.method, $0.scope) } }
        }
    }

    func add(_ method: HTTPRequest.Method, _ path: String, scope: APIScope?) {
        let pattern = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        routes.withLock { routes in
            if let i = routes.firstIndex(where: { $0.pattern == Array(pattern) }) {
                routes[i].methods.append((method.rawValue, scope))
            } else {
                routes.append(Route(pattern: Array(pattern), methods: [(method.rawValue, scope)]))
            }
        }
    }

    /// The methods `path` takes, nil when no route has its shape. A `{name}` segment
    /// matches any non-empty one.
    func methods(for path: String) -> [String]? {
        route(path)?.methods.map(\.method).sorted()
    }

    /// Whether any method of the route `path` matches needs a key.
    func needsKey(_ path: String) -> Bool {
        route(path)?.methods.contains { $0.scope != nil } ?? false
    }

    private func route(_ path: String) -> Route? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        return routes.withLock { routes in
            routes.first { route in
                route.pattern.count == parts.count
                    && zip(route.pattern, parts).allSatisfy { want, got in
                        want.first == "{" ? !got.isEmpty : want == got
                    }
            }
        }
    }

    private static func path(_ pattern: [Substring]) -> String { "/" + pattern.joined(separator: "/") }
}

/// Registers routes on a router and records each, with its scope, in the `RouteTable`.
struct RouteRegistrar {
    let router: Router<APIRequestContext>
    let table: RouteTable

    /// A route anyone may call (`/health`, `/ready`, `/openapi.yaml`).
    func open(
        _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, APIRequestContext) async throws -> Response
    ) {
        table.add(method, path, scope: nil)
        router.on(RouterPath(path), method: method, use: handler)
    }

    /// A route that needs a key holding `scope` (403 `scope_missing` otherwise); the
    /// handler gets that key, the caller's identity (`key.id` names it in audit records).
    func on(
        _ method: HTTPRequest.Method, _ path: String, scope: APIScope,
        _ handler: @escaping @Sendable (Request, APIRequestContext, APIKey) async throws -> Response
    ) {
        table.add(method, path, scope: scope)
        router.on(RouterPath(path), method: method) { request, context in
            let key = try APIError.requireKey(context.authentication)
            guard key.allows(scope) else { throw APIError.scopeMissing(key, scope) }
            return try await handler(request, context, key)
        }
    }

    func get(
        _ path: String, scope: APIScope,
        _ handler: @escaping @Sendable (Request, APIRequestContext, APIKey) async throws -> Response
    ) {
        on(.get, path, scope: scope, handler)
    }
}
