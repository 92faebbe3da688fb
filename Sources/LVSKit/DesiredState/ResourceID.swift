/// What a resource is, taken from the thing itself, never from a display name or a position in
/// a list: `sysctl net.ipv4.conf.all.arp_ignore`, `address lo 192.168.0.200/32`,
/// `ipvs tcp 192.168.0.200:80`. A host's record keeps each resource's prior state under it.
public struct ResourceID: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let kind: String
    public let key: String

    public init(kind: String, key: String) {
        self.kind = kind
        self.key = key
    }

    public var description: String { "\(kind) \(key)" }

    public static func < (a: ResourceID, b: ResourceID) -> Bool { a.description < b.description }

    /// The folder the host's record keeps it in: readable, a safe shell word and path component,
    /// and unique (a hash of the whole identity follows the readable part).
    public var recordKey: String {
        var slug = ""
        for character in description.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber || character == ".") { slug.append(character) }
            else if !slug.hasSuffix("-") { slug.append("-") }
        }
        slug = String(slug.prefix(60)).trimmingCharacters(in: ["-", "."])
        return slug + "-" + Self.fnv1a(description)
    }

    /// FNV-1a, 64 bits, as 16 hex digits: stable across processes and machines (Swift's
    /// `hashValue` is seeded per process, so it cannot name anything kept on a host).
    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

extension String {
    func trimmingCharacters(in set: [Character]) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
