import Daemon
import ServiceLifecycle

/// Bridges ServiceLifecycle's graceful shutdown (SIGTERM/SIGINT) to the server's drain.
struct DaemonService: Service {
    let server: DaemonServer

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.run()
        } onGracefulShutdown: {
            server.initiateShutdown()
        }
    }
}
