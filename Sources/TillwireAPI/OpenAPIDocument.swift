/// The hub's OpenAPI 3.1 document, served at `/v1/openapi.json`. Written by hand beside the routes; a test fails when
/// a route is missing from it or it lists a route that does not exist, and CI runs schemathesis against it.
enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Tillwire hub API",
    "version": "1.0.0",
    "description": "The governed API of a Tillwire hub. Every route under /v1 needs an API key (`Authorization: Bearer tw_…`, created with `tillwire keys create`). Errors are application/problem+json (RFC 9457). See docs/api.md."
  },
  "servers": [{"url": "/"}],
  "security": [{"apiKey": []}],
  "paths": {
    "/healthz": {
      "get": {
        "summary": "Liveness: the process answers.",
        "security": [],
        "responses": {
          "200": {"description": "Alive.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
        }
      }
    },
    "/readyz": {
      "get": {
        "summary": "Readiness: storage answers and its schema is current.",
        "security": [],
        "responses": {
          "200": {"description": "Ready.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
          "503": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/metrics": {
      "get": {
        "summary": "Prometheus metrics, text exposition format (scope metrics:read).",
        "responses": {
          "200": {"description": "Metrics.", "content": {"text/plain": {"schema": {"type": "string"}}}},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/openapi.json": {
      "get": {
        "summary": "This document.",
        "responses": {
          "200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}},
          "401": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/reference": {
      "get": {
        "summary": "This document as a readable page (also offline: tillwire openapi --html).",
        "responses": {
          "200": {"description": "The reference page.", "content": {"text/html": {"schema": {"type": "string"}}}},
          "401": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/dead-letters": {
      "get": {
        "summary": "Dead jobs, oldest first (scope admin).",
        "parameters": [
          {"name": "kind", "in": "query", "schema": {"type": "string"}, "description": "Exactly this job kind, e.g. erp.post_sale."},
          {"name": "system", "in": "query", "schema": {"type": "string"}, "description": "Kinds of this system, e.g. erp."},
          {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}, "description": "Died at or after (ISO 8601)."},
          {"name": "until", "in": "query", "schema": {"type": "string", "format": "date-time"}, "description": "Died before (ISO 8601)."},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}, "description": "At most this many (default 100)."}
        ],
        "responses": {
          "200": {"description": "The dead jobs.", "headers": {"RateLimit-Limit": {"$ref": "#/components/headers/RateLimit-Limit"}},
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DeadLetterList"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/dead-letters/{id}": {
      "get": {
        "summary": "One job: payload, last error, why it waits, its replays (scope admin).",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The job.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DeadLetter"}}}},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/dead-letters/replay": {
      "post": {
        "summary": "Run dead jobs again, by id or by filter, or say what would run (scope admin). Audited.",
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReplayRequest"}}}},
        "responses": {
          "200": {"description": "What was (or would be) replayed.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReplayResult"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/audit": {
      "get": {
        "summary": "The audit log, oldest first (scope admin).",
        "parameters": [
          {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807}, "description": "Entries after this sequence number."},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}, "description": "At most this many (default 100)."}
        ],
        "responses": {
          "200": {"description": "Entries.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AuditList"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key tw_<id>_<secret> from `tillwire keys create`."}
    },
    "parameters": {
      "IdempotencyKey": {
        "name": "Idempotency-Key", "in": "header", "required": false,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
        "description": "1-255 visible ASCII characters, new for each request (a UUID does). Repeats with the same key and request get the first response and change nothing; the same key with another request is a 422."
      }
    },
    "headers": {
      "RateLimit-Limit": {"description": "The key's burst.", "schema": {"type": "integer"}}
    },
    "responses": {
      "Problem": {
        "description": "An RFC 9457 problem.",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
      }
    },
    "schemas": {
      "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
          "type": {"type": "string", "description": "urn:tillwire:problem:<kind>"},
          "title": {"type": "string"},
          "status": {"type": "integer"},
          "detail": {"type": "string"},
          "field": {"type": ["string", "null"]},
          "instance": {"type": ["string", "null"]},
          "request_id": {"type": ["string", "null"]}
        }
      },
      "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {
          "status": {"type": "string"},
          "storage": {"type": ["string", "null"]},
          "schema": {"type": ["integer", "null"]}
        }
      },
      "DeadLetter": {
        "type": "object",
        "required": ["id", "kind", "state", "attempts", "max_attempts", "last_run", "created_at", "payload"],
        "properties": {
          "id": {"type": "string"},
          "kind": {"type": "string"},
          "state": {"type": "string", "enum": ["pending", "running", "dead"]},
          "attempts": {"type": "integer"},
          "max_attempts": {"type": "integer"},
          "partition_key": {"type": ["string", "null"]},
          "last_error": {"type": ["string", "null"]},
          "last_run": {"type": "string", "format": "date-time"},
          "created_at": {"type": "string", "format": "date-time"},
          "payload": {"type": "string"},
          "why": {"type": ["string", "null"]},
          "replays": {
            "type": ["array", "null"],
            "items": {
              "type": "object",
              "required": ["replayed_by", "replayed_at", "reason"],
              "properties": {
                "replayed_by": {"type": "string"},
                "replayed_at": {"type": "string", "format": "date-time"},
                "reason": {"type": "string"},
                "previous_error": {"type": ["string", "null"]}
              }
            }
          }
        }
      },
      "DeadLetterList": {
        "type": "object",
        "required": ["dead_letters"],
        "properties": {"dead_letters": {"type": "array", "items": {"$ref": "#/components/schemas/DeadLetter"}}}
      },
      "ReplayRequest": {
        "type": "object",
        "required": ["reason"],
        "oneOf": [{"required": ["ids"]}, {"required": ["filter"]}],
        "properties": {
          "ids": {"type": "array", "items": {"type": "string"}, "description": "Job ids; give either ids or filter."},
          "filter": {
            "type": "object",
            "properties": {
              "kind": {"type": "string"},
              "system": {"type": "string"},
              "since": {"type": "string", "format": "date-time"},
              "until": {"type": "string", "format": "date-time"},
              "limit": {"type": "integer", "minimum": 1, "maximum": 1000}
            }
          },
          "reason": {"type": "string", "minLength": 1, "description": "Why; kept in the replay audit."},
          "dry_run": {"type": "boolean"}
        }
      },
      "ReplayResult": {
        "type": "object",
        "required": ["dry_run", "replayed"],
        "properties": {"dry_run": {"type": "boolean"}, "replayed": {"type": "array", "items": {"type": "string"}}}
      },
      "AuditList": {
        "type": "object",
        "required": ["entries"],
        "properties": {
          "entries": {
            "type": "array",
            "items": {
              "type": "object",
              "required": ["sequence", "at", "actor", "action", "outcome"],
              "properties": {
                "sequence": {"type": "integer"},
                "at": {"type": "string", "format": "date-time"},
                "actor": {"type": "string"},
                "action": {"type": "string"},
                "target": {"type": ["string", "null"]},
                "request_id": {"type": ["string", "null"]},
                "outcome": {"type": "string"},
                "detail": {"type": ["string", "null"]}
              }
            }
          },
          "next_after": {"type": ["integer", "null"]}
        }
      }
    }
  }
}
"""#
}
