/// Filters of the reporting list (`GET /v1/payments`).
public struct PaymentFilter: Sendable, Hashable {
    public var merchantID: String?
    /// Only payments of these merchants (an API key's bounds); nil: any. With
    /// `merchantID` too, a payment must pass both (a `merchantID` outside them finds none).
    public var merchantIDs: Set<String>?
    public var orderID: String?
    public var status: PaymentStatus?
    /// Created at or after (ms since the epoch).
    public var createdFromMillis: UInt64?
    /// Created before (ms since the epoch).
    public var createdToMillis: UInt64?

    public init(
        merchantID: String? = nil, orderID: String? = nil, status: PaymentStatus? = nil,
        createdFromMillis: UInt64? = nil, createdToMillis: UInt64? = nil, merchantIDs: Set<String>? = nil
    ) {
        self.merchantID = merchantID
        self.merchantIDs = merchantIDs
        self.orderID = orderID
        self.status = status
        self.createdFromMillis = createdFromMillis
        self.createdToMillis = createdToMillis
    }

    /// Whether `payment` passes every filter set.
    public func matches(_ payment: Payment) -> Bool {
        (merchantID.map { $0 == payment.merchantID } ?? true)
            && (merchantIDs.map { $0.contains(payment.merchantID) } ?? true)
            && (orderID.map { $0 == payment.orderID } ?? true)
            && (status.map { $0 == payment.status } ?? true)
            && (createdFromMillis.map { payment.createdAtMillis >= $0 } ?? true)
            && (createdToMillis.map { payment.createdAtMillis < $0 } ?? true)
    }
}

/// A page of the list, newest first (by created time, then id), and where the next page
/// starts.
public struct PaymentPage: Sendable, Hashable {
    /// The largest page.
    public static let limitMax = 500

    public let payments: [Payment]
    /// Where the next page starts; nil on the last page.
    public let nextCursor: ListCursor?

    public init(payments: [Payment], nextCursor: ListCursor?) {
        self.payments = payments
        self.nextCursor = nextCursor
    }
}

/// A place in the reporting list: the created time and id of the last payment of a page.
/// Its text form (`<created ms>_<payment id>`, the API's `cursor`) is PaymentsWire's.
public struct ListCursor: Hashable, Sendable {
    public let createdMillis: Int64
    public let id: PaymentID

    public init(createdMillis: Int64, id: PaymentID) {
        self.createdMillis = createdMillis
        self.id = id
    }

    /// Whether `payment` comes after this place in the list's order (newest first).
    public func precedes(_ payment: Payment) -> Bool {
        let created = Int64(clamping: payment.createdAtMillis)
        return created < createdMillis || (created == createdMillis && payment.id < id)
    }
}

/// A page of the conflict log, newest first, and where the next page starts.
public struct ConflictLogPage: Sendable, Hashable {
    public let rows: [ConflictLogRow]
    /// The sequence the next page continues below; nil on the last page.
    public let nextBefore: Int64?

    public init(rows: [ConflictLogRow], nextBefore: Int64?) {
        self.rows = rows
        self.nextBefore = nextBefore
    }
}

/// One row of the conflict log: a concurrent write to a field that lost, beside the one
/// that won. Values are JSON text, as the log keeps them.
public struct ConflictLogRow: Sendable, Hashable {
    /// The log's own number, newest highest; the conflicts page's cursor.
    public let sequence: Int64
    public let paymentID: String
    public let field: String
    public let winnerValueJSON: String
    public let winnerStamp: String
    public let loserValueJSON: String
    public let loserStamp: String

    public init(
        sequence: Int64, paymentID: String, field: String, winnerValueJSON: String, winnerStamp: String,
        loserValueJSON: String, loserStamp: String
    ) {
        self.sequence = sequence
        self.paymentID = paymentID
        self.field = field
        self.winnerValueJSON = winnerValueJSON
        self.winnerStamp = winnerStamp
        self.loserValueJSON = loserValueJSON
        self.loserStamp = loserStamp
    }
}
