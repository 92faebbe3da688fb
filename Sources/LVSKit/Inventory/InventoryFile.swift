import Foundation

/// Reading an inventory file's bytes as text: a missing file, a folder, UTF-16 from a Windows
/// editor and a Latin-1 byte each get their own sentence, with where.
public enum InventoryFile {
    public static func read(_ path: String) -> Result<String, InventoryErrors> {
        func failure(_ problem: InventoryProblem, line: Int = 1, column: Int = 1) -> Result<String, InventoryErrors> {
            .failure(InventoryErrors(diagnostics: [InventoryDiagnostic(location: SourceLocation(file: path, line: line, column: column), problem: problem)]))
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { return failure(.unreadable("there is no such file")) }
        guard !isFolder.boolValue else { return failure(.unreadable("it is a folder, not a file")) }
        guard let data = FileManager.default.contents(atPath: path) else { return failure(.unreadable("it cannot be read (permissions?)")) }
        return decode(Array(data)).mapError { problem in
            InventoryErrors(diagnostics: [InventoryDiagnostic(location: SourceLocation(file: path, line: problem.line, column: problem.column),
                                                              problem: problem.problem)])
        }
    }

    struct Located: Error {
        var problem: InventoryProblem
        var line: Int
        var column: Int
    }

    /// UTF-8 (a byte-order mark is dropped), or where it stops being UTF-8.
    static func decode(_ bytes: [UInt8]) -> Result<String, Located> {
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            return .failure(Located(problem: .unreadable("it is UTF-16 text (as some Windows editors save): save it as UTF-8"), line: 1, column: 1))
        }
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        if let text = String(validating: body, as: UTF8.self) { return .success(text) }
        // Find the first byte that does not decode, and say where it is.
        var line = 1, lineStart = 0, index = 0
        while index < body.count {
            let byte = body[index]
            let length = byte < 0x80 ? 1 : byte >> 5 == 0b110 ? 2 : byte >> 4 == 0b1110 ? 3 : byte >> 3 == 0b11110 ? 4 : 0
            let valid = length > 0 && index + length <= body.count && String(validating: body[index..<index + length], as: UTF8.self) != nil
            if !valid {
                let hint = byte >= 0xA0 ? " (a Latin-1 or Windows-1252 character?)" : ""
                return .failure(Located(problem: .unreadable("it is not UTF-8 text: byte 0x\(String(byte, radix: 16, uppercase: true)) at line \(line), byte \(index - lineStart + 1) does not decode\(hint); save the file as UTF-8"),
                                        line: line, column: index - lineStart + 1))
            }
            if byte == 0x0A { line += 1; lineStart = index + 1 }
            index += length
        }
        return .failure(Located(problem: .unreadable("it is not UTF-8 text"), line: 1, column: 1))
    }
}
