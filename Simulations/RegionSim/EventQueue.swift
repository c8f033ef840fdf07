/// Pending events ordered by (virtual time, insertion sequence): equal times run in the
/// order they were scheduled, so a run is a pure function of its seed.
public struct EventQueue<Event>: Sendable where Event: Sendable {
    private struct Item: Sendable {
        let timeMicros: UInt64
        let seq: UInt64
        let event: Event
        func before(_ o: Item) -> Bool { timeMicros != o.timeMicros ? timeMicros < o.timeMicros : seq < o.seq }
    }

    private var heap: [Item] = []
    private var nextSeq: UInt64 = 0

    public init() {}

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }

    public mutating func schedule(_ event: Event, atMicros time: UInt64) {
        heap.append(Item(timeMicros: time, seq: nextSeq, event: event))
        nextSeq += 1
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].before(heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    public mutating func pop() -> (timeMicros: UInt64, event: Event)? {
        guard !heap.isEmpty else { return nil }
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && heap[l].before(heap[m]) { m = l }
                if r < heap.count && heap[r].before(heap[m]) { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        return (top.timeMicros, top.event)
    }
}
