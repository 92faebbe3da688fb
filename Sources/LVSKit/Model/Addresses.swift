import Glibc

/// An IPv4 or IPv6 address, validated, in canonical text form.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible, Comparable {
    public enum Family: Sendable { case v4, v6 }
    public let family: Family
    /// 4 or 16 bytes, network order.
    public let bytes: [UInt8]

    public var description: String {
        switch family {
        case .v4: return bytes.map(String.init).joined(separator: ".")
        case .v6:
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    public var isV6: Bool { family == .v6 }
    public var bitCount: Int { bytes.count * 8 }

    /// `addr:port` as ipvsadm writes it (`[v6]:port`).
    public func withPort(_ port: Int) -> String { isV6 ? "[\(self)]:\(port)" : "\(self):\(port)" }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        a.bytes.count != b.bytes.count ? a.bytes.count < b.bytes.count : a.bytes.lexicographicallyPrecedes(b.bytes)
    }

    /// Parses a dotted quad strictly, or an IPv6 address; answers why not otherwise.
    public static func parse(_ text: String) -> Result<IPAddress, AddressError> {
        if text.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, text, &address) == 1 else { return .failure(.notIPv6(text)) }
            return .success(IPAddress(family: .v6, bytes: withUnsafeBytes(of: address) { Array($0) }))
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return .failure(.wrongPartCount(text, parts.count)) }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber) else {
                return .failure(.notANumber(text, String(part)))
            }
            guard let value = Int(part), value <= 255 else { return .failure(.partTooLarge(text, String(part))) }
            if part.count > 1 && part.hasPrefix("0") { return .failure(.leadingZero(text, String(part))) }
            bytes.append(UInt8(value))
        }
        return .success(IPAddress(family: .v4, bytes: bytes))
    }

    /// Whether `other` lies in the network `self/prefix`.
    public func contains(_ other: IPAddress, prefix: Int) -> Bool {
        guard other.family == family else { return false }
        var bits = prefix
        for (a, b) in zip(bytes, other.bytes) {
            if bits <= 0 { return true }
            let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if a & mask != b & mask { return false }
            bits -= 8
        }
        return true
    }

    /// The network address of `self/prefix`.
    public func network(prefix: Int) -> IPAddress {
        var bits = prefix
        let masked = bytes.map { byte -> UInt8 in
            defer { bits -= 8 }
            return bits >= 8 ? byte : bits <= 0 ? 0 : byte & ~(0xFF >> UInt8(bits))
        }
        return IPAddress(family: family, bytes: masked)
    }
}

public enum AddressError: Error, Equatable, Sendable {
    case wrongPartCount(String, Int)
    case notANumber(String, String)
    case partTooLarge(String, String)
    case leadingZero(String, String)
    case notIPv6(String)

    public var reason: String {
        switch self {
        case let .wrongPartCount(_, count): return "an IPv4 address has 4 numbers separated by dots, this has \(count)"
        case let .notANumber(_, part): return "'\(part)' is not a number from 0 to 255"
        case let .partTooLarge(_, part): return "\(part) is larger than 255"
        case let .leadingZero(_, part): return "'\(part)' has a leading zero (some tools read it as octal)"
        case .notIPv6: return "it contains ':' but is not a valid IPv6 address"
        }
    }
}

/// An address with a prefix length, e.g. a DIP `10.0.0.1/24`.
public struct AddressWithPrefix: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefix: Int
    public var description: String { "\(address)/\(prefix)" }
    public var network: String { "\(address.network(prefix: prefix))/\(prefix)" }
    public func contains(_ other: IPAddress) -> Bool { address.contains(other, prefix: prefix) }
}

/// A dotted netmask (`255.255.255.0`) or a prefix length, as ipvsadm's `-M` takes.
public enum Netmask {
    /// The prefix length of a contiguous dotted IPv4 mask, or nil.
    public static func prefixLength(ofDotted text: String) -> Int? {
        guard case let .success(mask) = IPAddress.parse(text), mask.family == .v4 else { return nil }
        let value = mask.bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let ones = value.nonzeroBitCount
        guard ones == 0 || value == ~UInt32(0) << UInt32(32 - ones) else { return nil }
        return ones
    }

    public static func dotted(prefix: Int) -> String {
        let value: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
        return [24, 16, 8, 0].map { String((value >> UInt32($0)) & 0xFF) }.joined(separator: ".")
    }
}

extension IPAddress {
    /// Why this address cannot be one host's (a VIP, a RIP, a DIP), or nil when it can.
    public var specialPurpose: String? {
        let b = bytes
        switch family {
        case .v4:
            if b.allSatisfy({ $0 == 0 }) { return "0.0.0.0 means any address, not one host" }
            if b[0] == 0 { return "0.0.0.0/8 is 'this network': no host has such an address" }
            if b[0] == 127 { return "127.0.0.0/8 is loopback: packets to it never leave a host" }
            if (224...239).contains(b[0]) { return "224.0.0.0/4 is multicast: a group, not one host" }
            if b.allSatisfy({ $0 == 255 }) { return "255.255.255.255 is the broadcast address of every network" }
            if b[0] >= 240 { return "240.0.0.0/4 is reserved" }
            if b[0] == 169 && b[1] == 254 { return "169.254.0.0/16 is link-local: routers do not forward it" }
        case .v6:
            if b.allSatisfy({ $0 == 0 }) { return ":: means any address, not one host" }
            if b.dropLast().allSatisfy({ $0 == 0 }) && b[15] == 1 { return "::1 is loopback: packets to it never leave a host" }
            if b[0] == 0xFF { return "ff00::/8 is multicast: a group, not one host" }
            if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return "fe80::/10 is link-local: it needs an interface to mean anything, and ipvsadm takes none" }
        }
        return nil
    }

    /// The last address of `self/prefix` (IPv4's broadcast address).
    public func broadcast(prefix: Int) -> IPAddress {
        var bits = prefix
        let filled = bytes.map { byte -> UInt8 in
            defer { bits -= 8 }
            return bits >= 8 ? byte : bits <= 0 ? 0xFF : byte | (0xFF >> UInt8(bits))
        }
        return IPAddress(family: family, bytes: filled)
    }
}

extension AddressWithPrefix {
    /// Why `address` cannot be a host on this network: it is the network's own address, or its
    /// broadcast address (IPv4 networks of more than two addresses).
    public func reservedOnThisNetwork(_ address: IPAddress) -> String? {
        guard contains(address), address.family == .v4, prefix <= 30 else { return nil }
        if address == self.address.network(prefix: prefix) { return "it is the address of the network \(network) itself" }
        if address == self.address.broadcast(prefix: prefix) { return "it is the broadcast address of \(network)" }
        return nil
    }
}

/// An address and a port, as IPVS names a real server within a service (its identity there) and
/// ipvsadm prints it: `10.0.0.11:80`, `[fd00::11]:80`.
public struct Endpoint: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var address: IPAddress
    public var port: Int

    public init(_ address: IPAddress, port: Int) {
        self.address = address
        self.port = port
    }

    /// `10.0.0.11:80` or `[fd00::11]:80`; nil for anything else.
    public init?(parsing text: String) {
        let host: Substring, port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[(text.index(close, offsetBy: 2, limitedBy: text.endIndex) ?? text.endIndex)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard let number = Int(port), case let .success(address) = IPAddress.parse(String(host)) else { return nil }
        self.init(address, port: number)
    }

    public var description: String { address.withPort(port) }

    public static func < (a: Endpoint, b: Endpoint) -> Bool { (a.address, a.port) < (b.address, b.port) }
}
