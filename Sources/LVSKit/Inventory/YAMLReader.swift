import Foundation
import Yams

/// Reads Yams nodes into typed values, keeping every value's file:line:column and collecting
/// every problem instead of stopping at the first.
struct YAMLReader {
    let file: String
    private(set) var diagnostics: [InventoryDiagnostic] = []
    /// Scalars already reported for a pasted character: reading them again would only add noise.
    private var flagged: Set<SourceLocation> = []

    init(file: String) { self.file = file }

    func location(_ node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    mutating func report(_ node: Node, _ problem: InventoryProblem) {
        report(location(node), problem)
    }

    mutating func report(_ location: SourceLocation, _ problem: InventoryProblem) {
        diagnostics.append(InventoryDiagnostic(location: location, problem: problem))
    }

    // MARK: - Structure

    /// A mapping's entries by key. Unknown and repeated keys are reported; keys starting with
    /// `x-` are ignored (a place for anchors to share, as in Compose files); `<<: *defaults`
    /// merges the entries of another mapping that this one does not give itself.
    mutating func fields(_ node: Node, _ name: String, allowed: [String]) -> Fields? {
        guard case let .mapping(mapping) = node else {
            report(node, .wrongKind(field: name, expected: "a mapping of keys to values"))
            return nil
        }
        var entries: [String: (key: Node, value: Node)] = [:]
        for (key, value) in merged(mapping) {
            guard let keyText = key.scalar?.string else { report(key, .wrongKind(field: "key", expected: "text")); continue }
            if flagged.contains(location(key)) || keyText.hasPrefix("x-") { continue }
            if let first = entries[keyText] {
                report(key, .duplicateKey(keyText, firstLine: location(first.key).line))
                continue
            }
            guard allowed.contains(keyText) else {
                report(key, .unknownKey(keyText, suggestion: Self.closest(keyText, in: allowed), allowed: allowed))
                continue
            }
            entries[keyText] = (key, value)
        }
        return Fields(node: node, entries: entries)
    }

    /// A mapping's own entries, then (YAML's merge key) those of the mappings `<<` names that
    /// it does not give itself: its own win, and among merged ones the first named wins.
    mutating func merged(_ mapping: Node.Mapping) -> [(key: Node, value: Node)] {
        var own: [(key: Node, value: Node)] = []
        var sources: [Node] = []
        for (key, value) in mapping {
            if key.scalar?.string == "<<" {
                switch value {
                case .mapping: sources.append(value)
                case let .sequence(list): sources += list
                default: report(value, .wrongKind(field: "<< (merge)", expected: "an alias of a mapping (<<: *defaults) or a list of them"))
                }
            } else {
                own.append((key, value))
            }
        }
        var result = own
        for source in sources {
            guard case let .mapping(inner) = source else {
                report(source, .wrongKind(field: "<< (merge)", expected: "an alias of a mapping (<<: *defaults) or a list of them"))
                continue
            }
            for (key, value) in merged(inner) where !result.contains(where: { $0.key.scalar?.string == key.scalar?.string }) {
                result.append((key, value))
            }
        }
        return result
    }

    mutating func list(_ node: Node, _ name: String) -> [Node]? {
        guard case let .sequence(sequence) = node else {
            report(node, .wrongKind(field: name, expected: "a list (lines starting with '- ')"))
            return nil
        }
        return Array(sequence)
    }

    // MARK: - Scalars

    mutating func text(_ node: Node, _ name: String) -> String? {
        guard let scalar = node.scalar else {
            report(node, .wrongKind(field: name, expected: "a single value, not a list or mapping"))
            return nil
        }
        return flagged.contains(location(node)) ? nil : scalar.string
    }

    mutating func integer(_ node: Node, _ name: String, in range: ClosedRange<Int>) -> Int? {
        guard let raw = text(node, name) else { return nil }
        guard let value = Int(raw) else {
            // All digits, too many of them for a number: out of range, not "not a number".
            if !raw.isEmpty, raw.drop(while: { $0 == "-" }).allSatisfy({ $0.isASCII && $0.isNumber }) {
                report(node, .outOfRange(field: name, value: raw, range: range))
                return nil
            }
            report(node, .wrongKind(field: name, expected: "a whole number"))
            return nil
        }
        guard range.contains(value) else {
            report(node, .outOfRange(field: name, value: raw, range: range))
            return nil
        }
        return value
    }

    mutating func flag(_ node: Node, _ name: String) -> Bool? {
        guard let raw = text(node, name) else { return nil }
        switch raw.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report(node, .wrongKind(field: name, expected: "true or false"))
            return nil
        }
    }

    mutating func address(_ node: Node, _ name: String) -> IPAddress? {
        guard let raw = text(node, name) else { return nil }
        switch IPAddress.parse(raw) {
        case let .success(address): return address
        case let .failure(error):
            report(node, .badIPAddress(raw, reason: error.reason))
            return nil
        }
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ name: String, aliases: [String: T] = [:]) -> T?
    where T.RawValue == String {
        guard let raw = text(node, name) else { return nil }
        if let value = T(rawValue: raw.lowercased()) ?? aliases[raw.lowercased()] { return value }
        let allowed = T.allCases.map(\.rawValue)
        report(node, .unknownValue(field: name, value: raw, suggestion: Self.closest(raw.lowercased(), in: allowed + aliases.keys.sorted()), allowed: allowed))
        return nil
    }

    /// A word that reaches a shell unquoted in an operator's eyes: a host name, an interface.
    mutating func word(_ node: Node, _ name: String, pattern: Regex<Substring>, maxLength: Int, rule: String) -> String? {
        guard let raw = text(node, name) else { return nil }
        guard raw.count <= maxLength, raw.wholeMatch(of: pattern) != nil else {
            report(node, .badName(field: name, value: raw, rule: rule))
            return nil
        }
        return raw
    }

    // MARK: - Aliases

    /// How many values the document holds once its aliases are expanded, counting no further
    /// than `budget`: nested aliases (a "billion laughs") double at each level, and anything that
    /// walks the document would take as long.
    static func expandedSize(_ node: Node, budget: Int) -> Int {
        var count = 0
        var stack = [node]
        while let next = stack.popLast() {
            count += 1
            if count > budget { return count }
            switch next {
            case .scalar, .alias: continue
            case let .mapping(mapping): for (key, value) in mapping { stack.append(key); stack.append(value) }
            case let .sequence(sequence): stack.append(contentsOf: sequence)
            }
        }
        return count
    }

    // MARK: - Characters pasted from web pages

    /// Reports en dashes, curly quotes, non-breaking and zero-width spaces, full-width forms in
    /// every scalar except the free-text ones (keys named in `freeText`).
    mutating func checkPastedCharacters(_ node: Node, freeText: Set<String>, underFreeText: Bool = false) {
        switch node {
        case let .scalar(scalar):
            guard !underFreeText else { return }
            let start = location(node)
            let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
            for (offset, unicode) in scalar.string.unicodeScalars.enumerated() {
                guard let (name, replacement) = Self.pasted(unicode) else { continue }
                flagged.insert(start)
                let at = SourceLocation(file: file, line: start.line, column: start.column + offset + (quoted ? 1 : 0))
                report(at, .pastedCharacter(Character(unicode), name: name, replacement: replacement))
                return
            }
        case let .mapping(mapping):
            for (key, value) in mapping {
                checkPastedCharacters(key, freeText: freeText)
                checkPastedCharacters(value, freeText: freeText, underFreeText: freeText.contains(key.scalar?.string ?? ""))
            }
        case let .sequence(sequence):
            for item in sequence { checkPastedCharacters(item, freeText: freeText, underFreeText: underFreeText) }
        case .alias:
            return
        }
    }

    static func pasted(_ c: Unicode.Scalar) -> (name: String, replacement: String)? {
        switch c.value {
        case 0x2010: return ("HYPHEN", "a plain '-' (U+002D)")
        case 0x2011: return ("NON-BREAKING HYPHEN", "a plain '-' (U+002D)")
        case 0x2012: return ("FIGURE DASH", "a plain '-' (U+002D)")
        case 0x2013: return ("EN DASH", "a plain '-' (U+002D)")
        case 0x2014: return ("EM DASH", "a plain '-' (U+002D)")
        case 0x2015: return ("HORIZONTAL BAR", "a plain '-' (U+002D)")
        case 0x2212: return ("MINUS SIGN", "a plain '-' (U+002D)")
        case 0x2018: return ("LEFT SINGLE QUOTATION MARK", "a plain ' (U+0027), or no quotes")
        case 0x2019: return ("RIGHT SINGLE QUOTATION MARK", "a plain ' (U+0027), or no quotes")
        case 0x201A, 0x201B: return ("SINGLE QUOTATION MARK", "a plain ' (U+0027), or no quotes")
        case 0x201C: return ("LEFT DOUBLE QUOTATION MARK", "a plain \" (U+0022), or no quotes")
        case 0x201D: return ("RIGHT DOUBLE QUOTATION MARK", "a plain \" (U+0022), or no quotes")
        case 0x201E, 0x201F: return ("DOUBLE QUOTATION MARK", "a plain \" (U+0022), or no quotes")
        case 0x00A0: return ("NO-BREAK SPACE", "a plain space")
        case 0x2002...0x200A, 0x202F, 0x3000: return ("SPACE", "a plain space")
        case 0x200B: return ("ZERO WIDTH SPACE", "nothing: delete it")
        case 0x200C, 0x200D, 0x2060, 0xFEFF: return ("ZERO WIDTH CHARACTER", "nothing: delete it")
        case 0x3002: return ("IDEOGRAPHIC FULL STOP", "a plain '.'")
        case 0xFF01...0xFF5E:
            let ascii = Character(Unicode.Scalar(c.value - 0xFEE0)!)
            return ("FULLWIDTH '\(ascii)'", "a plain '\(ascii)'")
        default: return nil
        }
    }

    // MARK: - Did you mean

    static func closest(_ word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word, $0)) }.filter { $0.1 <= max(1, min(2, $0.0.count / 3)) }
        return scored.min { $0.1 < $1.1 }?.0
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// A mapping's known entries.
struct Fields {
    let node: Node
    let entries: [String: (key: Node, value: Node)]
    subscript(_ key: String) -> Node? { entries[key]?.value }
}
