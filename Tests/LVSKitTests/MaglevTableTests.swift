import Testing
@testable import LVSKit

/// The `mh` scheduler's table against what the lab's kernel (Debian 12, 6.1, x86_64) did: the
/// real server that answered each client address, recorded through the VIP with curl
/// `--interface` from 192.168.0.120–169 (and the lab client's own .100–.107).
struct MaglevTableTests {
    static let rs1 = Endpoint(try! IPAddress.parse("10.0.0.11").get(), port: 80)
    static let rs2 = Endpoint(try! IPAddress.parse("10.0.0.12").get(), port: 80)

    /// "1" or "2" per source address from .120 on: which server answered it.
    static func answers(_ table: MaglevTable, from first: Int, count: Int) -> String {
        (first..<first + count).map { last in
            let source = try! IPAddress.parse("192.168.0.\(last)").get()
            return table.destination(for: source).map { [rs2, rs1][$0] == rs1 ? "1" : "2" } ?? "-"
        }.joined()
    }

    @Test func equalWeightsAsTheKernelChose() {
        // The kernel lists rs2 first (added last: destinations are inserted at the head).
        let table = MaglevTable(destinations: [(Self.rs2, 1), (Self.rs1, 1)])
        #expect(Self.answers(table, from: 120, count: 50) == "12112222121212112211221211211112222211222121221222")
        // The lab client's eight addresses all reach rs2: no spread to expect from them.
        #expect(Self.answers(table, from: 100, count: 8) == "22222222")
    }

    @Test func weightsOneToThreeAsTheKernelChose() {
        let table = MaglevTable(destinations: [(Self.rs2, 3), (Self.rs1, 1)])
        #expect(Self.answers(table, from: 120, count: 50) == "22212222122222112211222212221212222221222121221222")
    }

    @Test func slotsFollowTheWeights() {
        let table = MaglevTable(destinations: [(Self.rs2, 3), (Self.rs1, 1)])
        let first = table.slots.filter { $0 == 0 }.count, second = table.slots.filter { $0 == 1 }.count
        #expect(first + second == MaglevTable.size)
        #expect(abs(first - 3 * second) < 8)
        #expect(MaglevTable(destinations: [(Self.rs2, 0), (Self.rs1, 0)]).destination(for: Self.rs1.address) == nil)
    }
}

/// The `sh` scheduler's buckets against the same kernel, recorded the same way.
struct SourceHashTableTests {
    static func answers(_ table: SourceHashTable) -> String {
        (120..<170).map { last in
            let index = table.destination(for: try! IPAddress.parse("192.168.0.\(last)").get())
            return index.map { $0 == 1 ? "1" : "2" } ?? "-"
        }.joined()
    }

    @Test func equalWeightsAsTheKernelChose() {
        let table = SourceHashTable(destinations: [(MaglevTableTests.rs2, 1), (MaglevTableTests.rs1, 1)])
        #expect(Self.answers(table) == "22211111222211111222221111222221111122221111122221")
    }

    @Test func weightsThreeToOneAsTheKernelChose() {
        let table = SourceHashTable(destinations: [(MaglevTableTests.rs2, 3), (MaglevTableTests.rs1, 1)])
        #expect(Self.answers(table) == "22221212222221212222221212222221212122221212122221")
    }
}
