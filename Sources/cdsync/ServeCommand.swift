import ArgumentParser
import EntityModel
import EntityStore
import Foundation
import WebAPI

/// `cdsync serve`: the store over the Dataverse Web API (`/api/data/v9.2`).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the store over the Dataverse Web API (/api/data/v9.2) until SIGINT or SIGTERM.")

    @OptionGroup var store: StoreOptions
    @Option(help: "The interface to listen on.") var host = "127.0.0.1"
    @Option(parsing: .unconditional, help: "The port; 0 picks a free one (printed on start).") var port = 8080
    @Option(help: "The bearer token clients must send (default: $CDSYNC_TOKEN, else a random one, printed).") var token: String?
    @Option(name: .customLong("tokens-file"), help: "A file of accepted bearer tokens, one a line ('#' starts a comment).")
    var tokensFile: String?
    @Option(name: .customLong("max-body"), parsing: .unconditional, help: "The largest request body in bytes (413 past it).") var maxBody = 32 * 1024 * 1024
    @Option(help: "A request budget per token, N/window (e.g. 6000/300, 3/10s): 429 with Retry-After past it.")
    var limit: String?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard maxBody > 0 else { throw ValidationError("--max-body must be positive") }
        if let limit, RequestLimit(limit) == nil { throw ValidationError("--limit must be N/window, e.g. 6000/300 or 3/10s") }
        if let token, token.isEmpty || token.contains(where: \.isWhitespace) { throw ValidationError("--token must be non-empty text without spaces") }
    }

    func run() async throws {
        var tokens = Set<String>()
        if let token { tokens.insert(token) }
        if let tokensFile {
            guard let text = try? String(contentsOfFile: tokensFile, encoding: .utf8) else {
                ErrorReport.writeStandardError("error: cannot read the tokens file \(tokensFile)")
                throw ExitCode.usage
            }
            for line in text.split(whereSeparator: \.isNewline) {
                let entry = line.trimmingCharacters(in: .whitespaces)
                if !entry.isEmpty && !entry.hasPrefix("#") { tokens.insert(entry) }
            }
        }
        if tokens.isEmpty, let fromEnvironment = ProcessEnvironment.value("CDSYNC_TOKEN") { tokens.insert(fromEnvironment) }
        if tokens.isEmpty {
            let generated = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            tokens.insert(generated)
            FileHandle.standardOutput.write(Data("token: \(generated)\n".utf8))
        }
        let service: EntityStore
        do { service = try EntityStore(path: store.path) } catch { throw ErrorReport.print(error) }
        let configuration = WebAPIServer.Configuration(host: host, port: port, tokens: tokens, maxBodyBytes: maxBody,
                                                       limit: limit.flatMap(RequestLimit.init))
        do {
            try await WebAPIServer(service: service, configuration: configuration).run(handleSignals: true) { url in
                FileHandle.standardOutput.write(Data("listening on \(url)\n".utf8))
            }
        } catch {
            ErrorReport.writeStandardError("error: cannot serve on \(host):\(port): \(error)")
            throw ExitCode.temporaryFailure
        }
    }
}
