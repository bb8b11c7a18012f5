import ArgumentParser
import EntityModel
import EntityStore
import Foundation

/// `cdsync schema apply|show`.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Apply a schema file or show entity definitions.",
        subcommands: [Apply.self, Show.self])

    /// `cdsync schema apply FILE`.
    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or extend entities from a YAML schema file.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The schema file (YAML).") var file: String

        func run() throws {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                ErrorReport.writeStandardError("error: cannot read \(file): \(error.localizedDescription)")
                throw ExitCode.usage
            }
            do {
                let entityStore = try EntityStore(path: store.path)
                let changes = try entityStore.applySchemaFile(text, fileName: file)
                print(SchemaPrinter.summary(changes))
            } catch {
                throw ErrorReport.print(error, location: file)
            }
        }
    }

    /// `cdsync schema show [ENTITY]`.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List entities, or show one entity's columns, keys and state model.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "An entity's logical name.") var entity: String?
        @Flag(help: "Print in the schema file format (YAML).") var yaml = false

        func run() throws {
            do {
                let entityStore = try EntityStore(path: store.path)
                if let entity {
                    let definition = try entityStore.definition(of: entity)
                    print(yaml ? try SchemaFile.yaml(for: [definition]) : SchemaPrinter.describe(definition), terminator: yaml ? "" : "\n")
                } else if yaml {
                    print(try SchemaFile.yaml(for: try entityStore.entityDefinitions()), terminator: "")
                } else {
                    print(try SchemaPrinter.list(entityStore))
                }
            } catch {
                throw ErrorReport.print(error)
            }
        }
    }
}
