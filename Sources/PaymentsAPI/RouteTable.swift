import HTTPTypes
import Hummingbird
import Synchronization

/// The API's routes as they were registered: each path pattern with its methods. A
/// request for a known path with a method it does not take is answered 405 with `Allow`
/// (the router alone would say 404). Filled while the router is built, read afterwards;
/// a test holds it equal to openapi.yaml's paths.
final class RouteTable: Sendable {
    private let routes = Mutex<[(pattern: [Substring], methods: [String])]>([])

    /// Every pattern with its methods, in registration order (`/v1/payments/{id}`, `["GET", "PATCH"]`).
    var all: [(path: String, methods: [String])] {
        routes.withLock { $0.map { ("/" + $0.pattern.joined(separator: "/"), $0.methods) } }
    }

    func add(_ method: HTTPRequest.Method, _ path: String) {
        let pattern = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        routes.withLock { routes in
            if let i = routes.firstIndex(where: { $0.pattern == Array(pattern) }) {
                routes[i].methods.append(method.rawValue)
            } else {
                routes.append((Array(pattern), [method.rawValue]))
            }
        }
    }

    /// The methods `path` takes, nil when no route has its shape. A `{name}` segment
    /// matches any non-empty one.
    func methods(for path: String) -> [String]? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        return routes.withLock { routes in
            routes.first { route in
                route.pattern.count == parts.count
                    && zip(route.pattern, parts).allSatisfy { want, got in
                        want.first == "{" ? !got.isEmpty : want == got
                    }
            }?.methods.sorted()
        }
    }
}

/// Registers routes on a router and records each in the `RouteTable`.
struct RouteRegistrar {
    let router: Router<BasicRequestContext>
    let table: RouteTable

    func on(
        _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response
    ) {
        table.add(method, path)
        router.on(RouterPath(path), method: method, use: handler)
    }

    func get(_ path: String, _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) {
        on(.get, path, handler)
    }
}
