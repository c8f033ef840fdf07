import ReplicaCore

/// The regions a simulation may use and the one-way latency between them, from
/// published inter-region round-trip times (halved, rounded).
public enum Geography {
    /// Region names, in the order runs take them (a 3-region run uses the first three).
    public static let regionNames = ["ap-northeast-1", "us-east-1", "eu-west-1", "us-west-2", "sa-east-1"]

    /// One-way latency in ms between regions `a` and `b` (indexes into `regionNames`).
    public static func latencyMillis(_ a: Int, _ b: Int) -> UInt64 {
        if a == b { return 1 }
        let table: [[UInt64]] = [
            //  apne1 use1 euw1 usw2 sae1
            [0, 73, 105, 50, 128],
            [73, 0, 34, 33, 58],
            [105, 34, 0, 63, 90],
            [50, 33, 63, 0, 88],
            [128, 58, 90, 88, 0],
        ]
        return table[a][b]
    }

    /// One-way latency from a client to the region it lives next to.
    public static let clientToHomeMillis: UInt64 = 2

    /// One-way latency from a client living next to region `home` to region `target`.
    public static func clientLatencyMillis(home: Int, target: Int) -> UInt64 {
        home == target ? clientToHomeMillis : latencyMillis(home, target) + clientToHomeMillis
    }

    public static func regions(_ count: Int) -> [RegionID] {
        regionNames.prefix(count).map { RegionID($0)! }
    }
}
