/// IPVS's protocol timeouts in ipvsadm's words: `ipvsadm -L -n --timeout` prints
/// `Timeout (tcp tcpfin udp): 900 120 300`, `ipvsadm --set 7200 0 0` sets the ones that are not 0
/// (the kernel leaves a 0 as it is).
extension IPVSAdm {
    /// Full command lines (with `ipvsadm`), for the template that applies them.
    public static let readTimeouts = ["ipvsadm", "-L", "-n", "--timeout"]
    /// The three prior values follow these words in the undo.
    public static let restoreTimeouts = ["ipvsadm", "--set"]

    public static func setTimeouts(_ timeouts: IPVSTimeouts) -> [String] {
        restoreTimeouts + [timeouts.tcp, timeouts.tcpFin, timeouts.udp].map { String($0 ?? 0) }
    }

    /// The numbers of a `--timeout` listing's line, or of the three numbers alone (what the
    /// template's capture keeps); nil for anything else.
    public static func parseTimeouts(_ line: String) -> IPVSTimeouts? {
        let numbers = line.split(separator: " ").suffix(3).compactMap { Int($0) }
        guard numbers.count == 3 else { return nil }
        return IPVSTimeouts(tcp: numbers[0], tcpFin: numbers[1], udp: numbers[2])
    }
}
