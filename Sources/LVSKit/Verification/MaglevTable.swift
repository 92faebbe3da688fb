/// The lookup table of the kernel's `mh` scheduler (net/netfilter/ipvs/ip_vs_mh.c), computed
/// here to say which real server each client source reaches: Maglev hashing is deterministic
/// (fixed hash keys, so every director computes the same table), but which of a handful of
/// sources lands where is not a matter of shares. With two servers, the lab client's eight
/// addresses all land on one of them; a judge that expected them to spread cried wolf.
///
/// The kernel's choices reproduced: a 64-bit kernel's `hsiphash` (SipHash-1-3 on 64-bit words,
/// truncated to 32 bits) of `offset + port + address` (an IPv6 address folded by XOR of its four
/// words), a table of 4 093 slots (`CONFIG_IP_VS_MH_TAB_INDEX` 12, Debian's), each destination's
/// turns its weight over the weights' gcd (shifted right past 6 bits), filled in the order the
/// kernel lists the destinations. Without `mh-port` the port hashed is 0.
public struct MaglevTable: Sendable, Equatable {
    public static let size = 4093
    /// Bits of weight / gcd the kernel keeps (`IP_VS_MH_TAB_BITS`).
    static let weightBits = 6
    static let offsetKey: UInt64 = 2_654_435_761
    static let skipKey: UInt64 = 2_654_446_892

    /// For each slot, the index (into the destinations given) of the server it sends to.
    public let slots: [Int?]

    /// `destinations`: endpoint and weight in the kernel's order (`ipvsadm -Ln --nosort`). A
    /// destination of weight 0 takes no slot (the kernel keeps its last weight instead, which a
    /// listing does not show: such a table is not modelled by callers).
    public init(destinations: [(endpoint: Endpoint, weight: Int)]) {
        let positive = destinations.map(\.weight).filter { $0 > 0 }
        guard let first = positive.first else {
            slots = Array(repeating: nil, count: Self.size)
            return
        }
        let divisor = positive.dropFirst().reduce(first) { Self.gcd($0, $1) }
        let shift = max(0, Self.bitLength(positive.max()! / divisor) - Self.weightBits)
        var offset: [Int] = [], skip: [Int] = [], next: [Int] = [], turns: [Int] = []
        for destination in destinations {
            let word = Self.fold(destination.endpoint.address) &+ UInt32(destination.endpoint.port)
            offset.append(Int(Self.hash(word, key: Self.offsetKey)) % Self.size)
            skip.append(Int(Self.hash(word, key: Self.skipKey)) % (Self.size - 1) + 1)
            let scaled = (destination.weight / divisor) >> shift
            turns.append(scaled > 0 ? scaled : (destination.weight != 0 ? 1 : 0))
        }
        next = offset
        var table = [Int?](repeating: nil, count: Self.size)
        var filled = 0
        // Round after round, each destination with turns takes its next free preferred slot(s).
        while filled < Self.size {
            for index in destinations.indices where turns[index] > 0 {
                for _ in 0..<turns[index] {
                    while table[next[index]] != nil { next[index] = (next[index] + skip[index]) % Self.size }
                    table[next[index]] = index
                    filled += 1
                    if filled == Self.size { break }
                }
                if filled == Self.size { break }
            }
        }
        slots = table
    }

    /// The destination (its index) a connection from `source` goes to (without `mh-port`).
    public func destination(for source: IPAddress) -> Int? {
        slots[Int(Self.hash(Self.fold(source), key: Self.offsetKey)) % Self.size]
    }

    /// An address as the kernel hashes it: IPv4 as its number, IPv6 its four words XORed.
    static func fold(_ address: IPAddress) -> UInt32 {
        stride(from: 0, to: address.bytes.count, by: 4).reduce(UInt32(0)) { folded, at in
            folded ^ address.bytes[at..<at + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
    }

    /// The kernel's `hsiphash` of one 32-bit word on a 64-bit machine: SipHash-1-3 with the key
    /// (k, k), the word as the message's last (and only) bytes, the result's low 32 bits.
    static func hash(_ word: UInt32, key: UInt64) -> UInt32 {
        var v0: UInt64 = 0x736f_6d65_7073_6575 ^ key
        var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ key
        var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ key
        var v3: UInt64 = 0x7465_6462_7974_6573 ^ key
        func round() {
            v0 &+= v1; v1 = rotate(v1, 13); v1 ^= v0; v0 = rotate(v0, 32)
            v2 &+= v3; v3 = rotate(v3, 16); v3 ^= v2
            v0 &+= v3; v3 = rotate(v3, 21); v3 ^= v0
            v2 &+= v1; v1 = rotate(v1, 17); v1 ^= v2; v2 = rotate(v2, 32)
        }
        let last = UInt64(4) << 56 | UInt64(word)
        v3 ^= last
        round()
        v0 ^= last
        v2 ^= 0xff
        round(); round(); round()
        return UInt32(truncatingIfNeeded: (v0 ^ v1) ^ (v2 ^ v3))
    }

    static func rotate(_ value: UInt64, _ bits: UInt64) -> UInt64 { value << bits | value >> (64 - bits) }
    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
    static func bitLength(_ value: Int) -> Int { value <= 0 ? 0 : Int.bitWidth - value.leadingZeroBitCount }
}
