import ReplicaCore
import ReplicaShell
import Tracing

// MARK: - Spans of a write, when the config has `tracing:`
//
// The API's request span is the task's context when `submit` is called. The submit span
// covers the engine and the wait for durability; the commit span covers the group
// commit of the write's persist request, from its hand-over to the committer thread to
// the transaction's end. The shell and the engine know nothing of it: the node hands the
// submit span's context to the store port itself, on the loop, and the port matches it
// to the persist request that carries the write's entry (`SQLiteShellStore`'s commit traces),
// however long the write waited for its records.

extension ReplicaNode {
    /// `submit` under a `paynode.submit` span, a child of the task's current context.
    func tracedSubmit(
        _ command: PaymentCommand, actor: String?, durability: Durability
    ) async throws(NodeError) -> WriteAck {
        let span = startSpan("paynode.submit")
        span.updateAttributes { attributes in
            attributes["payment.id"] = command.paymentID.rawValue
            attributes["paynode.command"] = command.isCreate ? "create" : "update"
            attributes["paynode.durability.requested"] = durability.rawValue
            attributes["paynode.region"] = config.region.name
            if let actor { attributes["paynode.key_id"] = actor }
        }
        defer { span.end() }
        // A trace the sampler dropped gets no commit span either.
        let trace = span.isRecording ? CommitTrace(context: span.context, paymentID: command.paymentID) : nil
        do {
            let ack = try await answer(commitTrace: trace) { shell, reply in
                shell.submit(command, actor: actor, durability: durability, reply: reply)
            }
            span.updateAttributes { attributes in
                attributes["paynode.durability.achieved"] = ack.achieved.rawValue
                attributes["paynode.replayed"] = ack.replayed
            }
            return ack
        } catch {
            span.recordError(error)
            // A refused write is the client's mistake (a 4xx), not the node failing.
            if case .unavailable(let why) = error { span.setStatus(SpanStatus(code: .error, message: why)) }
            throw error
        }
    }
}

/// A traced write on its way to the store: the submit span's context and the payment
/// the write is for. Only the persist request holding this region's entry for that
/// payment gets a commit span.
final class CommitTrace: Sendable {
    let context: ServiceContext
    let paymentID: PaymentID

    init(context: ServiceContext, paymentID: PaymentID) {
        self.context = context
        self.paymentID = paymentID
    }

    /// Starts `paynode.store.commit` for `request`, which carries this write.
    func span(for request: PersistRequest) -> any Span {
        let span = startSpan("paynode.store.commit", context: context)
        span.updateAttributes { attributes in
            attributes["payment.id"] = paymentID.rawValue
            attributes["paynode.commit.entries"] = request.entries.count
            attributes["paynode.commit.records"] = request.records.count
        }
        return span
    }

    /// Ends a commit span on the committer's thread, with the size of the group the
    /// request was committed in.
    static func end(_ span: any Span, _ outcome: StoreOutcome, groupRequests: Int) {
        span.attributes["paynode.commit.group_requests"] = groupRequests
        switch outcome {
        case .committed: break
        case .rolledBack(let reason), .uncertain(let reason):
            span.setStatus(SpanStatus(code: .error, message: reason))
        }
        span.end()
    }
}

extension PaymentCommand {
    var isCreate: Bool { if case .create = self { true } else { false } }
}
