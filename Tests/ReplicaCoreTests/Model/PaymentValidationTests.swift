import Testing

@testable import ReplicaCore

@Suite struct PaymentValidationTests {
    private func field(of create: CreatePayment) -> String? {
        do throws(PaymentError) {
            try PaymentValidation.validate(create)
            return nil
        } catch {
            #expect(error.code == .invalidField)
            return error.field
        }
    }

    @Test func test_validCreate_passes() throws {
        try PaymentValidation.validate(Fixtures.create())
    }

    @Test func test_eachInvalidField_isNamed() {
        var c = Fixtures.create()
        c.merchantID = "bad merchant"
        #expect(field(of: c) == "merchant_id")
        c = Fixtures.create()
        c.merchantID = String(repeating: "m", count: 65)
        #expect(field(of: c) == "merchant_id")
        c = Fixtures.create()
        c.orderID = ""
        #expect(field(of: c) == "order_id")
        c = Fixtures.create()
        c.amount = 0
        #expect(field(of: c) == "amount")
        c = Fixtures.create()
        c.amount = 1_000_000_000_000_001
        #expect(field(of: c) == "amount")
        c = Fixtures.create()
        c.amount = -5
        #expect(field(of: c) == "amount")
        c = Fixtures.create()
        c.currency = "usd"
        #expect(field(of: c) == "currency")
        c = Fixtures.create()
        c.currency = "ABC"
        #expect(field(of: c) == "currency")
        c = Fixtures.create()
        c.paymentKey = String(repeating: "k", count: 201)
        #expect(field(of: c) == "payment_key")
        c = Fixtures.create()
        c.customerID = String(repeating: "c", count: 65)
        #expect(field(of: c) == "customer_id")
        c = Fixtures.create()
        c.description = String(repeating: "d", count: 501)
        #expect(field(of: c) == "description")
        c = Fixtures.create()
        c.metadata = Dictionary(uniqueKeysWithValues: (0..<21).map { ("k\($0)", "v") })
        #expect(field(of: c) == "metadata")
        c = Fixtures.create()
        c.metadata = [String(repeating: "k", count: 41): "v"]
        #expect(field(of: c) == "metadata")
        c = Fixtures.create()
        c.orderID = "a\u{0}b"
        #expect(field(of: c) == "order_id")
    }

    @Test func test_amountBounds_areInclusive() throws {
        var c = Fixtures.create()
        c.amount = 1
        try PaymentValidation.validate(c)
        c.amount = 1_000_000_000_000_000
        try PaymentValidation.validate(c)
    }

    @Test(arguments: ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "5500 0000 0000 0004"])
    func test_cardNumberAsPaymentKey_isRefused(_ key: String) {
        var c = Fixtures.create()
        c.paymentKey = key
        #expect(field(of: c) == "payment_key")
    }

    @Test func test_cardNumberInFreeText_isRefused() {
        var c = Fixtures.create()
        c.description = "customer paid with 4111 1111 1111 1111 yesterday"
        #expect(field(of: c) == "description")
        c = Fixtures.create()
        c.metadata = ["note": "pan 4111111111111111"]
        #expect(field(of: c) == "metadata")
    }

    /// Every way a card number was seen to slip through: separators, other digit forms,
    /// line breaks, and every text field and metadata key.
    @Test(arguments: [
        "4111.1111.1111.1111", "4111_1111_1111_1111", "4111/1111/1111/1111", "4111 1111\n1111 1111",
        "4111\t1111\r\n1111-1111",
        "\u{FF14}\u{FF11}\u{FF11}\u{FF11}\u{FF11}\u{FF11}\u{FF11}\u{FF11}\u{FF11}\u{FF11}\u{FF11}\u{FF11}\u{FF11}\u{FF11}\u{FF11}\u{FF11}",
        "\u{0664}\u{0661}\u{0661}\u{0661}\u{0661}\u{0661}\u{0661}\u{0661}\u{0661}\u{0661}\u{0661}\u{0661}\u{0661}\u{0661}\u{0661}\u{0661}",
        "4111\u{2013}1111\u{2013}1111\u{2013}1111", "4111\u{3000}1111\u{3000}1111\u{3000}1111", "378282246310005",
        "6011111111111117",
        "3530111333300000", "5555555555554444", "2223003122003222",
    ])
    func test_cardNumberInAnyFormAndAnyTextField_isRefused(_ pan: String) {
        var c = Fixtures.create()
        c.description = "paid with \(pan) today"
        #expect(field(of: c) == "description", "description: \(pan)")
        c = Fixtures.create()
        c.orderID = pan.count <= 64 ? pan : String(pan.prefix(64))
        #expect(field(of: c) == "order_id", "order_id: \(pan)")
        c = Fixtures.create()
        c.customerID = pan
        #expect(field(of: c) == "customer_id", "customer_id: \(pan)")
        c = Fixtures.create()
        c.metadata = [String(pan.map { $0.isNewline || $0 == "\t" ? " " : $0 }): "x"]
        #expect(field(of: c) == "metadata", "metadata key: \(pan)")
        c = Fixtures.create()
        c.paymentKey = String(pan.filter { !$0.isNewline && $0 != "\t" })
        #expect(field(of: c) == "payment_key", "payment_key: \(pan)")
    }

    @Test func test_cardNumberAsMerchantID_isRefused() {
        var c = Fixtures.create()
        c.merchantID = "4111111111111111"
        #expect(field(of: c) == "merchant_id")
    }

    /// Long numbers that are not card numbers stay accepted: a millisecond timestamp, an
    /// order number without a card network's prefix, a 20-digit reference.
    @Test(arguments: ["1732540800000", "9000000000000008", "order 2026-11-25 ref 1234-5678", "41111111111111111111"])
    func test_longNumbersThatAreNoCardNumber_areAccepted(_ text: String) throws {
        var c = Fixtures.create()
        c.orderID = text
        c.description = text
        try PaymentValidation.validate(c)
    }

    @Test func test_peerFieldValues_areHeldToTheSameRules() {
        #expect(throws: PaymentError.self) { try PaymentValidation.validate(.amount, .integer(-5)) }
        #expect(throws: PaymentError.self) { try PaymentValidation.validate(.currency, .text("XXQ")) }
        #expect(throws: PaymentError.self) { try PaymentValidation.validate(.status, .text("stolen")) }
        #expect(throws: PaymentError.self) { try PaymentValidation.validate(.merchantID, .absent) }
        #expect(throws: PaymentError.self) { try PaymentValidation.validate(.amount, .text("5")) }
        #expect(throws: PaymentError.self) {
            try PaymentValidation.validate(.metadata, .metadata(["4111 1111 1111 1111": "x"]))
        }
        #expect(throws: Never.self) { try PaymentValidation.validate(.description, .absent) }
        #expect(throws: Never.self) { try PaymentValidation.validate(.amount, .integer(1_250)) }
    }

    @Test func test_tokenThatFailsLuhn_isAccepted() throws {
        var c = Fixtures.create()
        c.paymentKey = "4111111111111112"
        try PaymentValidation.validate(c)
    }

    @Test func test_emptyPatch_isRefused() {
        #expect(throws: PaymentError.self) { try PaymentValidation.validate(PaymentPatch()) }
    }

    @Test func test_statusTransitions_matchTheLifecycle() {
        let allowed: Set<String> = [
            "pending>authorized", "pending>completed", "pending>failed", "pending>canceled",
            "authorized>completed", "authorized>failed", "authorized>canceled", "completed>refunded",
        ]
        for from in PaymentStatus.allCases {
            for to in PaymentStatus.allCases {
                #expect(
                    from.canTransition(to: to) == allowed.contains("\(from.rawValue)>\(to.rawValue)"), "\(from)>\(to)")
            }
        }
    }
}
