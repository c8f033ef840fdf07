import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ReplicaCore
import Testing

@testable import PaymentsAPI

/// `GET /v1/events` as JSON pages: commit order, the cursor, filters, `Last-Event-ID`,
/// and refusals of bad input; the 410 answer's shape.
@Suite(.serialized) struct EventRouteTests {
    let auth: HTTPFields = [.authorization: "Bearer paynode-dev-key", .contentType: "application/json"]

    @Test func pagesCursorsAndFilters() async throws {
        let auth = self.auth
        try await RouteTests.withService { client, _ in
            var ids: [String] = []
            for i in 1...3 {
                let created = try await client.execute(
                    uri: "/v1/payments", method: .post, headers: auth, body: RouteTests.create("e-\(i)"))
                ids.append(RouteTests.json(created)["id"] as! String)
            }
            _ = try await client.execute(
                uri: "/v1/payments/\(ids[1])", method: .patch, headers: auth,
                body: ByteBuffer(string: #"{"status":"authorized"}"#))

            let first = try await client.execute(uri: "/v1/events?limit=2", method: .get, headers: auth)
            #expect(first.status == .ok)
            let page1 = RouteTests.json(first)
            let events1 = page1["data"] as! [[String: Any]]
            #expect(events1.map { $0["seq"] as? Int } == [1, 2])
            #expect(events1.map { $0["payment_id"] as? String } == [ids[0], ids[1]])
            #expect(page1["cursor"] as? String == "us-east-1:2")
            #expect(events1[0]["cursor"] as? String == "us-east-1:1")
            #expect((events1[0]["changes"] as? [String: Any])?["amount"] as? Int == 1250)
            #expect(((events1[0]["payment"] as? [String: Any])?["status"]) as? String == "pending")

            // On from the cursor: the last create and the patch, with the payment after it.
            let second = RouteTests.json(
                try await client.execute(uri: "/v1/events?cursor=us-east-1:2", method: .get, headers: auth))
            let events2 = second["data"] as! [[String: Any]]
            #expect(events2.map { $0["seq"] as? Int } == [3, 4])
            #expect((events2[1]["changes"] as? [String: Any])?.keys.sorted() == ["status"])
            #expect(((events2[1]["payment"] as? [String: Any])?["status"]) as? String == "authorized")
            // Caught up: nothing, and the same cursor back.
            let third = RouteTests.json(
                try await client.execute(uri: "/v1/events?cursor=us-east-1:4", method: .get, headers: auth))
            #expect((third["data"] as? [Any])?.isEmpty == true && third["cursor"] as? String == "us-east-1:4")

            // An EventSource reconnecting sends its last id as Last-Event-ID.
            var resume = auth
            resume[HTTPField.Name("Last-Event-ID")!] = "us-east-1:3"
            let resumed = RouteTests.json(try await client.execute(uri: "/v1/events", method: .get, headers: resume))
            #expect((resumed["data"] as? [[String: Any]])?.map { $0["seq"] as? Int } == [4])

            // Filters: only matching changes, and the cursor still passes the rest.
            let authorized = RouteTests.json(
                try await client.execute(uri: "/v1/events?status=authorized", method: .get, headers: auth))
            #expect((authorized["data"] as? [[String: Any]])?.map { $0["seq"] as? Int } == [4])
            #expect(authorized["cursor"] as? String == "us-east-1:4")
            let other = RouteTests.json(
                try await client.execute(uri: "/v1/events?merchant_id=nobody", method: .get, headers: auth))
            #expect((other["data"] as? [Any])?.isEmpty == true && other["cursor"] as? String == "us-east-1:4")

            for (query, field) in [
                ("cursor=us-east-1", "cursor"), ("cursor=a:1,b:x", "cursor"), ("limit=0", "limit"),
                ("limit=1001", "limit"), ("status=lost", "status"),
            ] {
                let refused = try await client.execute(uri: "/v1/events?\(query)", method: .get, headers: auth)
                #expect(refused.status == .unprocessableContent, "\(query)")
                #expect(RouteTests.errorField(refused) == field, "\(query)")
            }
            let wrongMethod = try await client.execute(
                uri: "/v1/events", method: .post, headers: auth, body: ByteBuffer(string: "{}"))
            #expect(wrongMethod.status == .methodNotAllowed)
        }
    }

    /// A cursor older than the region keeps is 410 with the oldest cursor it serves; with
    /// no cursor the feed starts from there; an EventSource's `Last-Event-ID` gets the same
    /// plain 410 (the first page is read before the stream answers).
    @Test func aCursorTooOld_is410_withTheOldestCursorServed() async throws {
        let auth = self.auth
        try await RouteTests.withService { client, service in
            try await RouteTests.createPayments(["e-1", "e-2", "e-3"], on: client)
            service.forgetChanges(through: VersionVector([service.region: 2]))
            let refused = try await client.execute(uri: "/v1/events?cursor=us-east-1:1", method: .get, headers: auth)
            #expect(refused.status == .gone)
            #expect(RouteTests.errorCode(refused) == "cursor_expired")
            #expect((RouteTests.json(refused)["error"] as? [String: Any])?["oldest_cursor"] as? String == "us-east-1:2")

            let fromOldest = RouteTests.json(try await client.execute(uri: "/v1/events", method: .get, headers: auth))
            #expect((fromOldest["data"] as? [[String: Any]])?.map { $0["seq"] as? Int } == [3])

            var stream = auth
            stream[.accept] = "text/event-stream"
            stream[HTTPField.Name("Last-Event-ID")!] = "us-east-1:1"
            #expect(try await client.execute(uri: "/v1/events", method: .get, headers: stream).status == .gone)
        }
    }

    /// Server-Sent Events: one `change` per change with its cursor as the id, a heartbeat
    /// when nothing moved, and an `error` event that ends the stream when the feed fails.
    @Test func aStreamWritesChangesHeartbeatsAndItsEnd() async throws {
        let auth = self.auth
        try await RouteTests.withService { client, service in
            try await RouteTests.createPayments(["e-1", "e-2", "e-3"], on: client)
            // Pages of two: 1-2, 3, nothing (a heartbeat), then the feed fails.
            service.failFeed(afterReads: 3)
            var stream = auth
            stream[.accept] = "text/event-stream"
            let response = try await client.execute(uri: "/v1/events?limit=2", method: .get, headers: stream)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            #expect(response.headers[.cacheControl] == "no-store")
            let messages = String(buffer: response.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(messages.count == 5, "\(messages)")
            guard messages.count == 5 else { return }
            for (i, message) in messages.prefix(3).enumerated() {
                let lines = message.split(separator: "\n")
                #expect(lines[0] == "id: us-east-1:\(i + 1)" && lines[1] == "event: change", "\(message)")
                #expect(lines[2].hasPrefix("data: {") && lines[2].contains("\"seq\":\(i + 1)"))
            }
            #expect(messages[3] == ": heartbeat")
            #expect(messages[4].hasPrefix("event: error\ndata: {\"error\":{\"code\":\"unavailable\""), "\(messages[4])")
        }
    }
}
