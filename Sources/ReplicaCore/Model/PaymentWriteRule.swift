/// What a client's create or patch comes to against the record a region holds: the one
/// rule the engine applies to every write (and the API's route tests' in-memory region
/// too). Validation, idempotent replays, status transitions; a patch writes only the
/// fields it changes.
public enum PaymentWriteRule {
    /// The outcome of a command.
    public enum Outcome {
        /// Invalid, or not allowed now: nothing changes.
        case refuse(PaymentError)
        /// Nothing to write: an identical replay of a create (`replayed`), or a patch that
        /// changes nothing. The answer is the payment as it is.
        case unchanged(Payment, replayed: Bool)
        /// These fields change.
        case write([(PaymentField, FieldValue)])
    }

    /// The outcome of `command` against `existing` (nil when the region holds no record
    /// of the payment) at region `region`.
    public static func decide(_ command: PaymentCommand, existing: PaymentRecord?, region: RegionID) -> Outcome {
        do throws(PaymentError) {
            switch command {
            case .create(_, let create, let idempotent):
                try PaymentValidation.validate(create)
                let fingerprint = create.fingerprint
                guard let existing, let payment = Payment(existing) else {
                    return .write(create.fieldValues + [(.requestFingerprint, .text(fingerprint))])
                }
                guard idempotent, Payment.fingerprint(of: existing) == fingerprint else {
                    throw PaymentError(
                        .idempotencyKeyReused, "this Idempotency-Key was already used with other parameters", field: nil
                    )
                }
                return .unchanged(payment, replayed: true)
            case .update(let id, let patch):
                try PaymentValidation.validate(patch)
                guard let existing, let payment = Payment(existing) else {
                    throw PaymentError(.notFound, "no payment \(id) in region \(region)", field: "id")
                }
                if let next = patch.status, next != payment.status, !payment.status.canTransition(to: next) {
                    throw PaymentError(
                        .invalidStatusTransition,
                        "status cannot go from \(payment.status.rawValue) to \(next.rawValue)", field: "status")
                }
                let changes = patch.fieldValues.filter { existing[$0.0]?.value ?? .absent != $0.1 }
                return changes.isEmpty ? .unchanged(payment, replayed: false) : .write(changes)
            }
        } catch {
            return .refuse(error)
        }
    }
}
