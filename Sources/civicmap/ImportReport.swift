import CivicMapCore
import CivicMapStore
import Foundation

/// The import's closing summary and its optional CSV report of every problem.
enum ImportReport {
    static func print(_ s: ImportSummary, options: ImportOptions = ImportOptions()) {
        var lines: [String] = []
        for (path, dialect) in s.csvDialects { lines.append("read \(path) as \(dialect.description)") }
        if !s.ignoredFields.isEmpty { lines.append("ignored columns: \(s.ignoredFields.joined(separator: ", "))") }
        for p in s.problems.prefix(20) { lines.append("rejected: \(p)") }
        if s.problems.count > 20 { lines.append("… and \(s.problems.count - 20) more problems (use --report FILE for all)") }
        for w in s.warnings.prefix(10) { lines.append("warning: \(w)") }
        if s.warnings.count > 10 { lines.append("… and \(s.warnings.count - 10) more warnings (use --report FILE for all)") }
        let allOrNothing = "all-or-nothing; fix the rows or use --partial"
        let verb = switch (options.dryRun, s.rolledBack) {
        case (true, _) where s.rejected > 0 && !options.partial: "dry run, nothing written; the import would write nothing (\(allOrNothing))"
        case (true, _): "dry run, nothing written"
        case (false, true): "nothing written (\(allOrNothing))"
        case (false, false): "written"
        }
        lines.append("added \(s.added), updated \(s.updated), unchanged \(s.unchanged), rejected \(s.rejected), warnings \(s.warnings.count): \(verb)")
        if !s.seconds.isEmpty {
            lines.append("time: " + s.seconds.map { String(format: "%@ %.2f s", $0.phase, $0.seconds) }.joined(separator: ", "))
        }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    /// Columns severity, line, field, reason; an import of several files adds a file column first.
    static func write(_ s: ImportSummary, to path: String) throws {
        let named = (s.problems + s.warnings).contains { $0.file != nil }
        var out: [UInt8] = []
        func append(_ severity: String, _ p: FieldProblem) {
            CSV.appendRecord((named ? [p.file ?? ""] : []) + [severity, String(p.line), p.field, p.reason], to: &out)
        }
        CSV.appendRecord((named ? ["file"] : []) + ["severity", "line", "field", "reason"], to: &out)
        for p in s.problems { append("error", p) }
        for w in s.warnings { append("warning", w) }
        try Data(out).write(to: URL(fileURLWithPath: path))
    }
}

/// Rows, rate and time left on a terminal; silent when stderr is not one (CI, pipes).
final class ProgressMeter: @unchecked Sendable {
    private let start = Date()
    private let enabled = isatty(STDERR_FILENO) == 1
    private var lastDraw = Date.distantPast

    func update(_ p: ImportProgress) {
        guard enabled, Date().timeIntervalSince(lastDraw) > 0.2 || p.phase == .done else { return }
        lastDraw = Date()
        let elapsed = Date().timeIntervalSince(start)
        var text = "\r\(p.phase.rawValue): \(p.rowsDone) rows"
        if p.rowsTotal > 0 && elapsed > 0 {
            let rate = Double(p.rowsDone) / elapsed
            text += " of \(p.rowsTotal), \(Int(rate)) rows/s"
            if rate > 0 && p.rowsDone < p.rowsTotal { text += ", ~\(Int(Double(p.rowsTotal - p.rowsDone) / rate) + 1) s left" }
        }
        FileHandle.standardError.write(Data((text + "   ").utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data(String(format: "\rdone in %.1f s%@\n", Date().timeIntervalSince(start), String(repeating: " ", count: 40)).utf8))
    }
}
