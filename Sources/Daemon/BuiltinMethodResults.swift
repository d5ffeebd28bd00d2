import StrictJSON
import DiffusionProtocol
import PluginAPI

/// Result schemas of the methods the daemon answers itself (protocol/schema/<method>.result.json).
enum BuiltinMethodResults {
    static let capabilitiesResult: JSONValue = [
        "type": "object",
        "additionalProperties": false,
        "required": [
            "protocol_version",
            "daemon_version",
            "methods",
            "operations",
            "samplers",
            "schedulers",
            "rngs",
            "limits",
            "blas_core",
            "threads",
            "precision",
        ],
        "properties": [
            "protocol_version": ["type": "string", "description": "1.0 for this specification"],
            "daemon_version": ["type": "string"],
            "methods": [
                "type": "array",
                "description": "built-in methods",
                "items": [
                    "type": "object",
                    "required": ["method", "params_schema"],
                    "additionalProperties": false,
                    "properties": ["method": ["type": "string"], "params_schema": ["type": "object"]],
                ],
            ],
            "operations": [
                "type": "array",
                "description": "operation plugins (each request is a job)",
                "items": [
                    "type": "object",
                    "required": ["method", "summary", "params_schema", "source"],
                    "additionalProperties": false,
                    "properties": [
                        "method": ["type": "string"],
                        "summary": ["type": "string"],
                        "params_schema": ["type": "object"],
                        "source": [
                            "type": "string",
                            "description": "builtin, or the path of the external plugin library",
                        ],
                    ],
                ],
            ],
            "samplers": ["type": "array", "items": ["type": "string"]],
            "schedulers": ["type": "array", "items": ["type": "string"]],
            "rngs": ["type": "array", "items": ["type": "string"]],
            "limits": [
                "type": "object",
                "additionalProperties": false,
                "required": [
                    "max_line_bytes",
                    "max_queue",
                    "max_json_depth",
                    "max_input_bytes",
                    "max_image_pixels",
                    "max_output_pixels",
                ],
                "properties": [
                    "max_line_bytes": ["type": "integer", "minimum": 0],
                    "max_queue": ["type": "integer", "minimum": 0],
                    "max_json_depth": ["type": "integer", "minimum": 0],
                    "max_input_bytes": ["type": "integer", "minimum": 0],
                    "max_image_pixels": [
                        "type": "integer",
                        "minimum": 1,
                        "description": "largest width × height any job decodes or holds in memory (--max-image-pixels)",
                    ],
                    "max_output_pixels": [
                        "type": "integer",
                        "minimum": 1,
                        "description": "largest width × height of an output streamed to its file, e.g. a tiled upscale (--max-output-pixels); each format's side limit applies too",
                    ],
                ],
            ],
            "blas_core": ["type": "string", "description": "the OpenBLAS kernel in use (openblas_get_corename)"],
            "threads": ["type": "integer", "minimum": 1],
            "precision": [
                "type": "object",
                "description": "compute precisions on this CPU, from run-time CPUID/XGETBV",
                "required": ["available", "fast", "cpu_flags", "bf16_hardware", "amx_granted", "reason"],
                "additionalProperties": false,
                "properties": [
                    "available": ["type": "array", "items": ["enum": ["fp32", "bf16"]], "description": "what requests can compute in"],
                    "fast": ["type": "array", "items": ["enum": ["fp32", "bf16"]], "description": "the available ones that are fast here"],
                    "cpu_flags": ["type": "array", "items": ["type": "string"], "description": "SIMD flags seen (CPU and OS enabling them)"],
                    "bf16_hardware": ["enum": ["amx", "avx512_bf16", "none"]],
                    "amx_granted": ["type": ["boolean", "null"], "description": "Linux AMX tile permission; null without AMX"],
                    "reason": ["type": "string", "description": "why fast is what it is"],
                    "amx_tile_kernel": ["type": "boolean", "description": "whether bf16 GEMMs use AMX tiles here (no tile kernel is built yet)"],
                    "setting": ["enum": ["fp32", "bf16", "auto"], "description": "the daemon's --precision"],
                    "default": ["enum": ["fp32", "bf16"], "description": "what a request without precision computes in (auto resolved)"],
                    "auto": ["enum": ["fp32", "bf16"], "description": "what auto resolved to (only with --precision auto)"],
                    "benchmark": ["type": "object", "description": "the start-up GEMM timing auto decided on (only with --precision auto on a CPU with bf16 instructions)",
                                  "properties": ["fp32_seconds": ["type": "number", "minimum": 0], "bf16_seconds": ["type": "number", "minimum": 0]]],
                ],
            ],
        ],
    ]

    static var statusResult: JSONValue { [
        "type": "object",
        "additionalProperties": false,
        "required": [
            "queue_length",
            "max_queue",
            "running",
            "models_loaded",
            "resident_bytes",
            "memory_budget_bytes",
            "memory",
            "connections",
            "uptime_ms",
            "blas_core",
        ],
        "properties": [
            "queue_length": [
                "type": "integer",
                "minimum": 0,
                "description": "jobs waiting (not counting the running one)",
            ],
            "max_queue": ["type": "integer", "minimum": 0],
            "running": [
                "type": ["object", "null"],
                "additionalProperties": false,
                "required": ["id", "method", "elapsed_ms"],
                "properties": [
                    "id": ["type": ["integer", "string"]],
                    "method": ["type": "string"],
                    "elapsed_ms": ["type": "integer", "minimum": 0],
                    "estimated_bytes": ["type": "integer", "minimum": 0,
                                        "description": "the admission check's estimate of the job's peak: its models' weights plus its working memory"],
                    "precision": ["enum": ["fp32", "bf16"], "description": "what a running generation computes in (its precision member, else the daemon's)"],
                    "progress": [
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["stage", "elapsed_ms"],
                        "properties": .object(NotificationSchemas.progressMembers),
                    ],
                ],
            ],
            "models_loaded": ["type": "array", "items": ModelReport.residentSchema,
                              "description": "every resident model (all kinds and variants)"],
            "resident_bytes": ModelReport.budgetProperties["resident_bytes"] ?? [:],
            "memory_budget_bytes": ModelReport.budgetProperties["memory_budget_bytes"] ?? [:],
            "memory": [
                "type": "object",
                "additionalProperties": false,
                "required": ["rss_bytes"],
                "properties": ["rss_bytes": ["type": ["integer", "null"], "minimum": 0]],
            ],
            "connections": ["type": "integer", "minimum": 0],
            "uptime_ms": ["type": "integer", "minimum": 0],
            "blas_core": ["type": "string"],
        ],
    ] }

    static let cancelResult: JSONValue = [
        "type": "object",
        "properties": [
            "id": ["type": ["integer", "string"]],
            "cancelled": ["const": true],
            "state": [
                "type": "string",
                "enum": ["queued", "running"],
                "description": "queued: removed, its -32800 was sent; running: it stops at its next step, then its -32800 is sent",
            ],
        ],
        "required": ["id", "cancelled", "state"],
        "additionalProperties": false,
    ]

    static let pingResult: JSONValue = [
        "type": "object",
        "properties": ["pong": ["const": true]],
        "required": ["pong"],
        "additionalProperties": false,
    ]

    static let shutdownResult: JSONValue = [
        "type": "object",
        "properties": ["shutting_down": ["const": true]],
        "required": ["shutting_down"],
        "additionalProperties": false,
    ]

    static let all: [String: JSONValue] = [
        "capabilities": capabilitiesResult, "status": statusResult, "cancel": cancelResult, "ping": pingResult,
        "shutdown": shutdownResult,
    ]
}
