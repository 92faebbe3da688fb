import Foundation

/// The templates and playbooks lvsctl renders from (data files, editable without recompiling).
public struct PlaybookLibrary: Sendable {
    public let templates: [String: StepTemplate]
    public let playbooks: [Role: Playbook]

    /// From file contents: template name → text, playbook file name → text.
    public static func parse(templates: [String: String], playbooks: [String: String]) throws -> PlaybookLibrary {
        var parsedTemplates: [String: StepTemplate] = [:]
        for (name, text) in templates { parsedTemplates[name] = try StepTemplate.parse(text, name: name) }
        var parsedPlaybooks: [Role: Playbook] = [:]
        for (file, text) in playbooks {
            let playbook = try Playbook.parse(text, file: file)
            parsedPlaybooks[playbook.role] = playbook
        }
        return PlaybookLibrary(templates: parsedTemplates, playbooks: parsedPlaybooks)
    }

    /// Reads `DIR/templates/*.yml` and `DIR/playbooks/*.yml`.
    public static func load(from directory: String) throws -> PlaybookLibrary {
        func files(_ folder: String) throws -> [String: String] {
            let path = "\(directory)/\(folder)"
            var result: [String: String] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: path).sorted() where name.hasSuffix(".yml") {
                result[String(name.dropLast(4))] = try String(contentsOfFile: "\(path)/\(name)", encoding: .utf8)
            }
            return result
        }
        return try parse(templates: files("templates"), playbooks: files("playbooks"))
    }

    /// Where the data folders are: an explicit folder, `LVSCTL_DATA`, beside or above the
    /// executable (an installed share/lvsctl or a source checkout), or the current folder.
    public static func locate(explicit: String?, executable: String, sourceRoot: String? = nil) throws -> String {
        var candidates: [String] = []
        if let explicit { candidates.append(explicit) }
        if let environment = ProcessInfo.processInfo.environment["LVSCTL_DATA"] { candidates.append(environment) }
        var folder = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(folder.path)
            candidates.append(folder.appendingPathComponent("share/lvsctl").path)
            folder.deleteLastPathComponent()
        }
        candidates.append(FileManager.default.currentDirectoryPath)
        if let sourceRoot { candidates.append(sourceRoot) }
        for candidate in candidates {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(candidate)/playbooks", isDirectory: &isFolder), isFolder.boolValue,
               FileManager.default.fileExists(atPath: "\(candidate)/templates") {
                return candidate
            }
        }
        throw PlaybookError.noPlaybooks(searched: Array(candidates.prefix(4)))
    }
}
