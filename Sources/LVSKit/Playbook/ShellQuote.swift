import Mustache

/// POSIX shell quoting: a word of safe characters stays as it is (so a step reads like what an
/// operator types), anything else is single-quoted with embedded quotes escaped.
public enum ShellQuote {
    static let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+,-")

    public static func quote(_ word: String) -> String {
        if !word.isEmpty && word.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// The Mustache content type every template is rendered with: values are shell-quoted unless a
/// template asks for them raw with triple braces.
struct ShellContentType: MustacheContentType {
    func escapeText(_ text: String) -> String { ShellQuote.quote(text) }
}
