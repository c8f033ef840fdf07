import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ReplicaCore
import Testing

@testable import PaymentsAPI

/// Every scope against every route: a key holding only scope S reaches exactly the routes
/// that need S (and `admin` reaches all); any other is 403 `scope_missing` naming the key
/// and the scope. The routes' scopes are this table, the router's and openapi.yaml's.
@Suite struct ScopeTests {
    /// Each operation, the scope it needs (nil: none), and a request that succeeds with it.
    static let operations: [(method: HTTPRequest.Method, path: String, scope: APIScope?)] = [
        (.get, "/metrics", .metricsRead),
        (.get, "/openapi.yaml", nil),
        (.get, "/health", nil),
        (.get, "/ready", nil),
        (.get, "/v1/cluster", .clusterRead),
        (.post, "/v1/payments", .paymentsWrite),
        (.get, "/v1/payments", .paymentsRead),
        (.get, "/v1/payments/{id}", .paymentsRead),
        (.get, "/v1/payments/{id}/history", .paymentsRead),
        (.patch, "/v1/payments/{id}", .paymentsWrite),
        (.get, "/v1/conflicts", .conflictsRead),
        (.get, "/v1/events", .eventsRead),
    ]

    /// The router registers exactly these operations with these scopes.
    @Test func theRouterRegistersTheTablesScopes() {
        let routes = RouteTable()
        _ = PaymentsRouter.router(InMemoryPaymentService(), routes: routes)
        let registered = routes.scopes.map { "\($0.method) \($0.path) \($0.scope?.rawValue ?? "-")" }.sorted()
        let expected = Self.operations.map { "\($0.method.rawValue) \($0.path) \($0.scope?.rawValue ?? "-")" }.sorted()
        #expect(registered == expected)
    }

    @Test(arguments: APIScope.allCases)
    func aKeyWithOneScopeReachesExactlyItsRoutes(_ scope: APIScope) async throws {
        let id = "only-" + scope.rawValue.replacingOccurrences(of: ":", with: ".")
        let service = InMemoryPaymentService(apiKeys: [InMemoryPaymentService.devKey, Access.key(id, [scope])])
        try await Access.withRouter(service) { client in
            let payment = try await Access.create("m_1", order: "o-1", on: client)
            for (n, op) in Self.operations.enumerated() {
                let uri = op.path.replacingOccurrences(of: "{id}", with: payment)
                let body: ByteBuffer? =
                    switch op.method {
                    case .post: RouteTests.create("scoped-\(n)")
                    case .patch: ByteBuffer(string: #"{"description":"scoped"}"#)
                    default: nil
                    }
                let response = try await client.execute(
                    uri: uri, method: op.method, headers: Access.headers(id), body: body)
                let allowed = op.scope == nil || scope == .admin || scope == op.scope
                let what = "\(op.method) \(op.path) with \(scope.rawValue)"
                if allowed {
                    #expect([200, 201].contains(response.status.code), "\(what): \(response.status)")
                } else {
                    #expect(response.status == .forbidden, "\(what): \(response.status)")
                    #expect(Access.error(response)["code"] == "scope_missing", "\(what)")
                    #expect(
                        Access.error(response)["message"]
                            == "this key (id \(id)) lacks the scope \(op.scope!.rawValue)", "\(what)")
                }
            }
        }
    }

    /// Without a key, or with one no hash matches, every operation with a scope is 401
    /// (and `/v1` paths no route has too); those without one answer as usual.
    @Test func withoutAKeyOnlyTheOpenRoutesAnswer() async throws {
        try await Access.withRouter(InMemoryPaymentService()) { client in
            for op in Self.operations {
                let uri = op.path.replacingOccurrences(of: "{id}", with: "pay_00000000000000000000000000")
                for headers: HTTPFields in [[:], [.authorization: "Bearer wrong"], [.authorization: "Basic abc"]] {
                    let response = try await client.execute(uri: uri, method: op.method, headers: headers)
                    if op.scope == nil {
                        #expect(response.status == .ok, "\(op.method) \(op.path)")
                    } else {
                        #expect(response.status == .unauthorized, "\(op.method) \(op.path) \(headers)")
                        #expect(Access.error(response)["code"] == "unauthorized")
                        #expect(response.headers[.wwwAuthenticate] == "Bearer")
                    }
                }
            }
            let unknown = try await client.execute(uri: "/v1/nothing", method: .get)
            #expect(unknown.status == .unauthorized)
        }
    }

    /// openapi.yaml names each operation's scope in its `security` requirement
    /// (`[{ bearer: ["payments:write"] }]`; `[]` for an open one), the same as the router's.
    @Test func openAPIScopesAreTheRoutersScopes() {
        let routes = RouteTable()
        _ = PaymentsRouter.router(InMemoryPaymentService(), routes: routes)
        var registered: [String: String] = [:]
        for op in routes.scopes { registered["\(op.method) \(op.path)"] = op.scope?.rawValue ?? "none" }
        #expect(Self.documentedScopes() == registered)
    }

    /// Per operation of openapi.yaml's `paths`, the scope its `security` line names, or
    /// `none` for `security: []`; `missing` when the operation has no `security` line.
    static func documentedScopes() -> [String: String] {
        var scopes: [String: String] = [:]
        var path: String?
        var operation: String?
        var inPaths = false
        for line in OpenAPIDocument.yaml.split(separator: "\n") {
            if !line.hasPrefix(" ") {
                inPaths = line == "paths:"
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "),
                let method = ["get", "post", "patch", "put", "delete"].first(where: { line == "    \($0):" })
            {
                operation = "\(method.uppercased()) \(path)"
                scopes[operation!] = "missing"
            } else if let operation, line.hasPrefix("      security: ") {
                let value = line.dropFirst("      security: ".count)
                if value == "[]" {
                    scopes[operation] = "none"
                } else if value.hasPrefix("[{ bearer: [\""), value.hasSuffix("\"] }]") {
                    scopes[operation] = String(value.dropFirst("[{ bearer: [\"".count).dropLast("\"] }]".count))
                } else {
                    scopes[operation] = "unreadable: \(value)"
                }
            }
        }
        return scopes
    }
}
