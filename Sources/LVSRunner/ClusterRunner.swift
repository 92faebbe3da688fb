import Foundation
import LVSKit
import SSHTransport

/// The verbs that run a script per host.
public enum Verb: String, Sendable {
    case plan, up, down
}

/// Runs one verb on every host of a cluster: hosts in parallel (at most `forks` at once), one
/// SSH connection per host, one command per verb. A host that fails never stops the others.
public struct ClusterRunner: Sendable {
    public let access: HostAccess
    public let forks: Int
    /// Called as each host finishes (for progress lines).
    public let onHostDone: @Sendable (HostReport, _ done: Int, _ total: Int) -> Void

    public init(access: HostAccess, forks: Int = 20, onHostDone: @escaping @Sendable (HostReport, Int, Int) -> Void = { _, _, _ in }) {
        self.access = access
        self.forks = max(1, forks)
        self.onHostDone = onHostDone
    }

    public func run(_ verb: Verb, plans: [HostPlan], inventory: String) async -> Recap {
        let clock = ContinuousClock()
        let started = clock.now
        let reports = await forEachHost(plans) { plan in await self.run(verb, on: plan) }
        return Recap(verb: verb.rawValue, inventory: inventory, hosts: reports, seconds: (clock.now - started).seconds)
    }

    /// Runs `body` for every plan, `forks` at a time; reports in the plans' order.
    func forEachHost(_ plans: [HostPlan], _ body: @escaping @Sendable (HostPlan) async -> HostReport) async -> [HostReport] {
        await withTaskGroup(of: (Int, HostReport).self) { group in
            var next = 0
            var results = [HostReport?](repeating: nil, count: plans.count)
            var done = 0
            func launch() {
                guard next < plans.count else { return }
                let index = next, plan = plans[index]
                next += 1
                group.addTask { (index, await body(plan)) }
            }
            for _ in 0..<min(forks, plans.count) { launch() }
            while let (index, report) = await group.next() {
                results[index] = report
                done += 1
                onHostDone(report, done, plans.count)
                launch()
            }
            return results.compactMap { $0 }
        }
    }

    func run(_ verb: Verb, on plan: HostPlan) async -> HostReport {
        let clock = ContinuousClock()
        let started = clock.now
        let (target, options) = access.connection(for: plan.host)
        var report = HostReport(host: plan.host.name, address: target.host, reachable: false)
        if let jump = plan.host.jump {
            report.error = "\(plan.host.name) is to be reached through jump host '\(jump)', which lvsctl cannot do yet: reach it directly, or forward a port to it (ssh -L) and give that address"
            return report
        }
        let connection: SSHConnection
        do {
            connection = try await SSHConnection.connect(to: target, options: options)
        } catch {
            report.error = "\(error)"
            report.seconds = (clock.now - started).seconds
            return report
        }
        report.reachable = true
        let script: String
        switch verb {
        case .plan: script = HostScript.plan(plan.steps)
        case .up: script = HostScript.up(plan.steps)
        case .down: script = HostScript.down()
        }
        do {
            let result = try await access.runAsRoot(script, on: connection, host: plan.host, user: target.user)
            switch verb {
            case .plan, .up:
                report.steps = HostOutput.steps(result.standardOutput, steps: plan.steps)
            case .down:
                report.steps = HostOutput.undo(result.standardOutput, names: Dictionary(plan.steps.map { ($0.id, $0.name) }) { a, _ in a })
            }
            if let problem = scriptProblem(result, host: plan.host, user: target.user) { report.error = problem }
        } catch {
            report.error = "\(error)"
        }
        report.roundTrips = await connection.roundTrips
        report.handshakes = await connection.handshakeAttempts
        await connection.close()
        report.seconds = (clock.now - started).seconds
        return report
    }

    /// A script that could not run at all: sudo wanting a password, no /bin/sh, no mktemp.
    func scriptProblem(_ result: CommandResult, host: InventoryHost, user: String) -> String? {
        if result.standardError.contains("a password is required") || result.standardError.contains("a terminal is required") {
            return "sudo on \(host.name) wants a password for \(user): pass --ask-become-pass, or allow \(user) NOPASSWD sudo"
        }
        if result.standardError.contains("incorrect password") || result.standardError.contains("Sorry, try again") {
            return "sudo on \(host.name) refused the password given for \(user)"
        }
        switch result.status {
        case .exited(0): return nil
        case .exited(97): return "cannot create a temporary folder on \(host.name) (mktemp failed: is /tmp writable?)"
        case .exited(98): return "cannot create lvsctl's state folder \(HostScript.stateDirectory) on \(host.name) (not root? read-only /var?)"
        case let status:
            let detail = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            return "the host script on \(host.name) ended with \(status)\(detail.isEmpty ? "" : ": \(detail)")"
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
