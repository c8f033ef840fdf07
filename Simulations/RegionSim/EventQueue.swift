/// Events ordered by (time, scheduling order): a binary min-heap. Same-time events run in
/// the order they were scheduled, so a run is a pure function of its seed.
///
/// The heap moves small keys only; each event stays in a slot of its own until it is popped,
/// so sifting never copies (or retains) an event's payload.
public struct EventQueue<Event>: Sendable where Event: Sendable {
    private struct Key: Sendable {
        let timeMicros: UInt64
        let seq: UInt64
        let slot: Int
        @inline(__always) func before(_ o: Key) -> Bool {
            timeMicros != o.timeMicros ? timeMicros < o.timeMicros : seq < o.seq
        }
    }

    private var heap: [Key] = []
    private var slots: [Event?] = []
    private var freeSlots: [Int] = []
    private var nextSeq: UInt64 = 0

    public init() {}

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }

    public mutating func schedule(_ event: Event, atMicros time: UInt64) {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = event
        } else {
            slot = slots.count
            slots.append(event)
        }
        let key = Key(timeMicros: time, seq: nextSeq, slot: slot)
        nextSeq += 1
        heap.append(key)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard key.before(heap[parent]) else { break }
            heap[i] = heap[parent]
            i = parent
        }
        heap[i] = key
    }

    public mutating func pop() -> (timeMicros: UInt64, event: Event)? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            var i = 0
            let n = heap.count
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var m = last
                var mi = -1
                if l < n && heap[l].before(m) {
                    m = heap[l]
                    mi = l
                }
                if r < n && heap[r].before(m) {
                    m = heap[r]
                    mi = r
                }
                if mi < 0 { break }
                heap[i] = m
                i = mi
            }
            heap[i] = last
        }
        let event = slots[top.slot].take()!
        freeSlots.append(top.slot)
        return (top.timeMicros, event)
    }
}
