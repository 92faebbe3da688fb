import Foundation

/// A TCP socket bound to 127.0.0.1 on a port the kernel picks, for tests that need a port
/// nothing answers on (closed at once) or a listener that never speaks (kept listening).
public struct LoopbackSocket {
    public let descriptor: Int32
    public let port: Int

    public init(listening: Bool) {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = descriptor
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        if listening { listen(fd, 4) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// A port nothing listens on: one the kernel just handed out and took back.
    public static func closedPort() -> Int {
        let socket = LoopbackSocket(listening: false)
        socket.close()
        return socket.port
    }

    public func close() { _ = Foundation.close(descriptor) }
}
