import Yams

/// The roles a host can play.
public enum Role: String, Sendable, CaseIterable {
    case director, realServer = "real-server"
}

/// One entry of a playbook: which template, with what, when.
public struct StepDefinition: Sendable, Equatable {
    public enum Iteration: Sendable, Equatable { case fact(String), values([String]) }
    public let name: String
    public let template: String
    public let modes: [ForwardingMode]?
    public let when: String?
    public let forEach: Iteration?
    /// Parameter → text with {{facts}}, or the bare name of a list fact.
    public let with: [(String, String)]

    public static func == (a: StepDefinition, b: StepDefinition) -> Bool {
        a.name == b.name && a.template == b.template && a.modes == b.modes && a.when == b.when
            && a.forEach == b.forEach && a.with.map(\.0) == b.with.map(\.0) && a.with.map(\.1) == b.with.map(\.1)
    }
}

/// A role's ordered steps (a file in playbooks/).
public struct Playbook: Sendable, Equatable {
    public let role: Role
    public let steps: [StepDefinition]

    public static func parse(_ text: String, file: String) throws -> Playbook {
        guard let node = try Yams.compose(yaml: text), let map = node.mapping,
              let roleText = map[Node("role")]?.scalar?.string else {
            throw PlaybookError.malformed(file: file, reason: "needs 'role:' and 'steps:'")
        }
        guard let role = Role(rawValue: roleText) else {
            throw PlaybookError.malformed(file: file, reason: "unknown role '\(roleText)' (director or real-server)")
        }
        let items = map[Node("steps")]?.sequence.map(Array.init) ?? []
        let steps = try items.map { item -> StepDefinition in
            guard let step = item.mapping, let name = step[Node("name")]?.scalar?.string,
                  let template = step[Node("template")]?.scalar?.string else {
                throw PlaybookError.malformed(file: "\(file):\(item.mark?.line ?? 0)", reason: "each step needs 'name' and 'template'")
            }
            let modes = try step[Node("modes")]?.sequence?.map { modeNode -> ForwardingMode in
                guard let mode = modeNode.scalar.flatMap({ ForwardingMode(rawValue: $0.string) }) else {
                    throw PlaybookError.malformed(file: "\(file):\(modeNode.mark?.line ?? 0)", reason: "modes are nat, dr, tun")
                }
                return mode
            }
            var iteration: StepDefinition.Iteration?
            if let each = step[Node("for_each")] {
                if let fact = each.scalar?.string { iteration = .fact(fact) }
                else { iteration = .values(each.sequence?.compactMap { $0.scalar?.string } ?? []) }
            }
            let with = (step[Node("with")]?.mapping).map { mapping in
                mapping.compactMap { key, value -> (String, String)? in
                    guard let k = key.scalar?.string, let v = value.scalar?.string else { return nil }
                    return (k, v)
                }
            } ?? []
            return StepDefinition(name: name, template: template, modes: modes,
                                  when: step[Node("when")]?.scalar?.string, forEach: iteration, with: with)
        }
        return Playbook(role: role, steps: steps)
    }
}
