import Logging

/// Installs the process-wide log handler; swift-log allows this once per process.
public enum LoggingSetup {
    public static func bootstrap(format: SupervisorConfiguration.LogFormat, level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler
            switch format {
            case .text: handler = StreamLogHandler.standardError(label: label)
            case .json: handler = JSONLogHandler(label: label)
            }
            handler.logLevel = level
            return handler
        }
    }
}
