import Foundation
import LVSKit
import SSHTransport

/// What `lvsctl verify` found for one virtual service.
public struct ServiceVerification: Codable, Sendable {
    public var service: String
    public var scheduler: String
    /// Answers per real-server host (and "none" for requests nobody known answered).
    public var counts: [String: Int]
    /// Real-server hosts in the order they answered.
    public var sequence: [String]
    public var verdicts: [Verdict]
}

public struct VerifyReport: Codable, Sendable {
    public var from: String
    public var services: [ServiceVerification]
    public var table: [Verdict]
    public var errors: [String]
    public var passed: Bool { errors.isEmpty && (services.flatMap(\.verdicts) + table).allSatisfy(\.passed) }
}

/// Sends requests to each VIP from a client and compares the director's IPVS table with the
/// inventory. IPVS does not balance connections that start on the director itself, so requests
/// come from the inventory's client host (or this machine with `from: nil`).
public struct Verifier: Sendable {
    public let access: HostAccess

    public init(access: HostAccess) { self.access = access }

    public func verify(_ inventory: Inventory, requests: Int, fromLocal: Bool) async -> VerifyReport {
        var report = VerifyReport(from: fromLocal ? "local" : inventory.client ?? "local", services: [], table: [], errors: [])
        let web = inventory.services.filter { if case .socket(.tcp, _, _) = $0.address { return true }; return false }
        let script = Self.requestScript(web, requests: requests)
        var output = ""
        if fromLocal || inventory.client == nil {
            if !fromLocal { report.errors.append("the inventory names no client host: sending requests from this machine (use --from local to say so)") }
            output = Self.runLocally(script)
        } else if let client = inventory.host(named: inventory.client!) {
            do { output = try await runRemote(script, on: client) } catch { report.errors.append("client \(client.name): \(error)") }
        }
        let bodies = Self.parseResponses(output)
        for service in web {
            let key = "\(service.vip.withPort(service.port))"
            let answers = (bodies[key] ?? []).map { DistributionJudge.identify($0, inventory: inventory, service: service) }
            var counts: [String: Int] = Dictionary(service.realServers.map { ($0.host, 0) }) { a, _ in a }
            for answer in answers { counts[answer ?? "none", default: 0] += 1 }
            report.services.append(ServiceVerification(
                service: service.address.description, scheduler: service.scheduler.rawValue, counts: counts,
                sequence: answers.map { $0 ?? "none" }, verdicts: DistributionJudge.judge(service, answers: answers)))
        }
        if let director = inventory.host(named: inventory.director.host) {
            do {
                let live = try await readTable(inventory, on: director)
                report.table = live.compare(toDesired: IPVSTable.desired(inventory))
            } catch {
                report.errors.append("director \(director.name): \(error)")
            }
        }
        return report
    }

    /// One request per line, each a new connection; answers printed as `@@lvsctl-answer VIP:port body`.
    static func requestScript(_ services: [VirtualService], requests: Int) -> String {
        var script = """
        fetch() { curl -s -m 5 "$1" 2>/dev/null || wget -qO- -T 5 "$1" 2>/dev/null || busybox wget -qO- -T 5 "$1" 2>/dev/null; }

        """
        for service in services {
            let target = service.vip.withPort(service.port)
            script += """
            i=0; while [ $i -lt \(requests) ]; do i=$((i + 1)); echo "@@lvsctl-answer \(target) $(fetch http://\(target)/ | head -c 300 | tr '\\n' ' ')"; done

            """
        }
        return script
    }

    static func parseResponses(_ output: String) -> [String: [String]] {
        var bodies: [String: [String]] = [:]
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count >= 2, fields[0] == "@@lvsctl-answer" else { continue }
            bodies[String(fields[1]), default: []].append(fields.count > 2 ? String(fields[2]) : "")
        }
        return bodies
    }

    static func runLocally(_ script: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return "" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    func runRemote(_ script: String, on host: InventoryHost) async throws -> String {
        try await access.withConnection(to: host) { connection, _ in
            try await connection.run("/bin/sh -s", stdin: Array(script.utf8), timeout: access.commandTimeout).standardOutput
        }
    }

    func readTable(_ inventory: Inventory, on director: InventoryHost) async throws -> IPVSTable {
        var script = "ipvsadm -S -n\n"
        for service in inventory.services {
            let rules = IPVSRules(service: service, mode: inventory.mode)
            script += "echo '@@lvsctl-service \(rules.flag) \(rules.address)'; ipvsadm -L -n --thresholds \(rules.flag) \(rules.address)\n"
        }
        let output = try await access.withConnection(to: director) { connection, target in
            try await access.runAsRoot(script, on: connection, host: director, user: target.user).standardOutput
        }
        let sections = output.components(separatedBy: "@@lvsctl-service ")
        var table = IPVSTable.parse(save: sections[0])
        for section in sections.dropFirst() {
            let lines = section.split(separator: "\n", maxSplits: 1)
            guard let key = lines.first else { continue }
            table.addThresholds(lines.count > 1 ? String(lines[1]) : "", service: String(key))
        }
        return table
    }
}
