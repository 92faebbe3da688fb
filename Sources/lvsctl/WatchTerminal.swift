import Foundation
import LVSKit

/// The terminal while `status --watch` runs. On a terminal each refresh is drawn in place and
/// input is read key by key, unechoed, so that q quits at once; the terminal is put back on the
/// way out (q, Ctrl-C, the end). Elsewhere (a pipe, a file) each refresh is printed after the
/// last, and input is left alone.
final class WatchTerminal: @unchecked Sendable {
    let interactive: Bool
    /// The settings to put back; global because a signal handler has no context.
    nonisolated(unsafe) static var saved = termios()

    init() {
        interactive = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
        guard interactive else { return }
        tcgetattr(STDIN_FILENO, &Self.saved)
        var keys = Self.saved
        keys.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &keys)
        Self.write("\u{1B}[?25l\u{1B}[2J")   // cursor hidden, screen cleared
        // In a signal handler only async-signal-safe calls: tcsetattr, write(2), _exit.
        signal(SIGINT) { _ in WatchTerminal.restore(); _exit(130) }
        signal(SIGTERM) { _ in WatchTerminal.restore(); _exit(143) }
        Thread.detachNewThread {
            var byte: UInt8 = 0
            while read(STDIN_FILENO, &byte, 1) == 1 {
                if byte == UInt8(ascii: "q") || byte == UInt8(ascii: "Q") { WatchTerminal.restoreAndExit(0) }
            }
        }
    }

    static func restoreAndExit(_ status: Int32) -> Never {
        restore()
        exit(status)
    }

    /// Safe in a signal handler: no allocation (a static string through write(2)).
    static func restore() {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved)
        let showCursor: StaticString = "\u{1B}[?25h\n"
        _ = Glibc.write(STDOUT_FILENO, showCursor.utf8Start, showCursor.utf8CodeUnitCount)
    }

    /// Straight to the terminal, unbuffered (the view is drawn only this way).
    static func write(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }

    func draw(_ lines: [String]) {
        if interactive {
            // Home, each line over the old one (rest of the line erased), the rest of the screen erased.
            Self.write("\u{1B}[H" + lines.map { $0 + "\u{1B}[K" }.joined(separator: "\n") + "\u{1B}[J")
        } else {
            print(lines.joined(separator: "\n") + "\n")
        }
    }

    func finish() {
        if interactive { Self.restore() }
    }
}
