/// A payment as clients see it: the materialized view of a complete `PaymentRecord`.
public struct Payment: Hashable, Sendable {
    public let id: PaymentID
    public let merchantID: String
    public let orderID: String
    /// Minor units (cents).
    public let amount: Int64
    public let currency: String
    public let method: PaymentMethod
    public let status: PaymentStatus
    public let paymentKey: String?
    public let customerID: String?
    public let description: String?
    public let metadata: [MetadataPair]?
    /// Wall-clock milliseconds of the create (from its stamp).
    public let createdAtMillis: UInt64
    /// Wall-clock milliseconds of the newest change.
    public let updatedAtMillis: UInt64
    /// Where the payment was created (the region of the create's stamp).
    public let region: RegionID
    /// The stamp of the newest change: the payment's version.
    public let version: HLCTimestamp

    /// The view of `record`, or nil when its create has not arrived yet.
    public init?(_ record: PaymentRecord) {
        guard record.isComplete,
            let merchant = record[.merchantID], let order = record[.orderID]?.value.text,
            let amount = record[.amount]?.value.integer, let currency = record[.currency]?.value.text,
            let method = record[.method]?.value.text.flatMap(PaymentMethod.init(rawValue:)),
            let status = record[.status]?.value.text.flatMap(PaymentStatus.init(rawValue:)),
            let merchantID = merchant.value.text, let newest = record.maxStamp
        else { return nil }
        self.id = record.id
        self.merchantID = merchantID
        self.orderID = order
        self.amount = amount
        self.currency = currency
        self.method = method
        self.status = status
        self.paymentKey = record[.paymentKey]?.value.text
        self.customerID = record[.customerID]?.value.text
        self.description = record[.description]?.value.text
        if case .metadata(let pairs)? = record[.metadata]?.value { self.metadata = pairs } else { self.metadata = nil }
        self.createdAtMillis = merchant.stamp.time.wallMillis
        self.updatedAtMillis = newest.time.wallMillis
        self.region = merchant.stamp.region
        self.version = newest.time
    }

    /// The fingerprint of the create request that made this payment.
    static func fingerprint(of record: PaymentRecord) -> String? { record[.requestFingerprint]?.value.text }
}
