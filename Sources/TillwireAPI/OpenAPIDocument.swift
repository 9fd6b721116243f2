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
    "/v1/locations": {
      "get": {
        "summary": "Every location the inventory knows (scope inventory:read).",
        "responses": {
          "200": {
            "description": "The locations.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/LocationList"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "429": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/locations/{id}": {
      "put": {
        "summary": "Add or replace a location (scope catalog:write).",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 200
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/LocationBody"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The location as stored.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Location"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "413": {
            "$ref": "#/components/responses/Problem"
          },
          "429": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/products": {
      "post": {
        "summary": "Add or replace products, 1-1000 at once (scope catalog:write). All or none.",
        "parameters": [
          {
            "$ref": "#/components/parameters/IdempotencyKey"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ProductsBody"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "How many were stored.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ProductsResult"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "413": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "429": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/inventory/movements": {
      "post": {
        "summary": "Record stock movements, 1-1000 at once (scope inventory:write). All or none; a repeat (same source and source_key) is already_applied.",
        "parameters": [
          {
            "$ref": "#/components/parameters/IdempotencyKey"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/MovementsBody"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "What each movement did.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/BatchResult"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "413": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "429": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/inventory/counts": {
      "post": {
        "summary": "Apply absolute counts as of their time, 1-1000 at once (scope inventory:write). All or none.",
        "parameters": [
          {
            "$ref": "#/components/parameters/IdempotencyKey"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CountsBody"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "What each count did.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/BatchResult"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "413": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "429": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/store-agents": {
      "get": {
        "summary": "Every store agent the hub has heard from: online or offline (since when), its backlog and last contact (scope inventory:read; a store's key sees its own store).",
        "responses": {
          "200": {"description": "The agents.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StoreAgentList"}}}},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/store-agents/{store}": {
      "get": {
        "summary": "One store's agent as the hub sees it (scope inventory:read).",
        "parameters": [{"name": "store", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The agent's status.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StoreAgentStatus"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      },
      "put": {
        "summary": "A store agent's report of itself: its queue of transactions not yet acknowledged (scope inventory:write; a store's key for its own store). Agents send it every few seconds; the hub shows the store offline when they stop.",
        "parameters": [{"name": "store", "in": "path", "required": true, "schema": {"type": "string"}}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StoreAgentReport"}}}},
        "responses": {
          "200": {"description": "The agent's status after the report.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StoreAgentStatus"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/store-agents/{store}/pricing": {
      "post": {
        "summary": "The store's prices and promotions for its agent's copy: the channel's prices in the country for the SKUs given, the promotions active now or later, the categories they look at, and the country's tax rule, in the domain's own encoding (the agent prices with the hub's engine). Scope prices:read; a store's key for its own store.",
        "parameters": [{"name": "store", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
          "type": "object", "required": ["channel", "country", "skus"],
          "properties": {
            "channel": {"type": "string"},
            "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
            "skus": {"type": "array", "maxItems": 5000, "items": {"type": "string"}}
          }}}}},
        "responses": {
          "200": {"description": "The copy.", "content": {"application/json": {"schema": {"type": "object", "required": ["channel", "country", "entries", "promotions", "categories", "asOf"]}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/store-agents/{store}/feed": {
      "get": {
        "summary": "The store's stock figures that changed after event `after` of its inventory stream (all of them from 0), a page at a time: what a store agent keeps its local copy with (scope inventory:read).",
        "parameters": [
          {"name": "store", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}}
        ],
        "responses": {
          "200": {"description": "One page of changed figures; ask again with after=version while more is true.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StoreAgentFeed"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/poslog": {
      "post": {
        "summary": "Apply one NRF/ARTS POSLog document (2.x or 6): sales and returns move the stores' stock, once per transaction however often sent (scope inventory:write). A document that does not parse, or names an unknown store or SKU, is refused whole.",
        "parameters": [
          {
            "$ref": "#/components/parameters/IdempotencyKey"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/xml": {
              "schema": {
                "type": "string",
                "description": "A POSLog document: root POSLog in the namespace http://www.nrf-arts.org/IXRetail/namespace/ (2.x) or .../v6.0.0/poslog (6), UTF-8."
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "What the document did.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/POSLogResult"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "413": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "429": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/availability": {
      "get": {
        "summary": "On hand, reserved, safety stock and available-to-promise of a SKU, at one location or all (scope inventory:read).",
        "parameters": [
          {
            "name": "sku",
            "in": "query",
            "required": true,
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 200
            }
          },
          {
            "name": "location",
            "in": "query",
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 200
            },
            "description": "Leave out for every location that has the SKU."
          }
        ],
        "responses": {
          "200": {
            "description": "The positions.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Availability"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "429": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/availability/query": {
      "post": {
        "summary": "Availability of 1-500 SKU-locations at once (scope inventory:read).",
        "parameters": [
          {
            "$ref": "#/components/parameters/IdempotencyKey"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/AvailabilityQuery"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The positions, in the order asked.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Availability"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "413": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "429": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/reservations": {
      "post": {
        "summary": "Hold stock for an order line (scope inventory:write). 201 when created, 200 for a repeat; 409 insufficient-stock names what is available.",
        "parameters": [
          {
            "$ref": "#/components/parameters/IdempotencyKey"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ReserveBody"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "The reservation, created.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Reservation"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "413": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "429": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "200": {
            "description": "The reservation, as created before with the same key.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Reservation"
                }
              }
            }
          }
        }
      }
    },
    "/v1/reservations/{key}": {
      "get": {
        "summary": "One reservation (scope inventory:read).",
        "parameters": [
          {
            "name": "key",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string",
              "pattern": "^[A-Za-z0-9._:~-]{1,150}$"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The reservation.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Reservation"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "429": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/reservations/{key}/consume": {
      "post": {
        "summary": "Consume a reservation: shipped or collected; records the sale (scope inventory:write).",
        "parameters": [
          {
            "name": "key",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string",
              "pattern": "^[A-Za-z0-9._:~-]{1,150}$"
            }
          },
          {
            "$ref": "#/components/parameters/IdempotencyKey"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/EndBody"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The reservation after.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Reservation"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "413": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "429": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/reservations/{key}/release": {
      "post": {
        "summary": "Release a reservation: cancelled; frees the stock (scope inventory:write).",
        "parameters": [
          {
            "name": "key",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string",
              "pattern": "^[A-Za-z0-9._:~-]{1,150}$"
            }
          },
          {
            "$ref": "#/components/parameters/IdempotencyKey"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/EndBody"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The reservation after.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Reservation"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "413": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "429": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/reservations/{key}/extend": {
      "post": {
        "summary": "Move an active reservation's expiry (scope inventory:write).",
        "parameters": [
          {
            "name": "key",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string",
              "pattern": "^[A-Za-z0-9._:~-]{1,150}$"
            }
          },
          {
            "$ref": "#/components/parameters/IdempotencyKey"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ExtendBody"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The reservation after.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Reservation"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "413": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "429": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          }
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
    "/v1/orders": {
      "post": {
        "summary": "Capture a channel's order and run the validation gate (scope orders:write). 201 when captured (validated or on hold, with the reasons), 200 for a repeat of the same order, 409 when the same channel order came before with other content.",
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OrderBody"}}}},
        "responses": {
          "200": {"description": "The order, captured before.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
          "201": {"description": "The order, captured now.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      },
      "get": {
        "summary": "Look an order up by its channel and the channel's order id, with its history and every event of its flow (scope orders:read).",
        "parameters": [
          {"name": "channel", "in": "query", "required": true, "schema": {"type": "string"}},
          {"name": "channel_order_id", "in": "query", "required": true, "schema": {"type": "string"}}
        ],
        "responses": {
          "200": {"description": "The order.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/orders/{id}": {
      "get": {
        "summary": "One order by the hub's id, with its history and every event of its flow (scope orders:read).",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The order.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/orders/{id}/payments": {
      "post": {
        "summary": "Record the payment side's current figures for an order (an authorization, a capture, a refund); an order held for its payment is validated again (scope orders:write).",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["authorized"], "properties": {
          "authorized": {"$ref": "#/components/schemas/Amount"}, "captured": {"$ref": "#/components/schemas/Amount"},
          "refunded": {"$ref": "#/components/schemas/Amount"}, "reason": {"type": "string"}}}}}},
        "responses": {
          "200": {"description": "The order after the update.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/orders/{id}/cancel": {
      "post": {
        "summary": "Cancel an order, with a reason kept in its history (scope orders:write). 422 when its status cannot be cancelled (fulfilled, completed, returned).",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}}}},
        "responses": {
          "200": {"description": "The order, cancelled.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/orders/{id}/shipments": {
      "post": {
        "summary": "Record a shipment of whole lines by the fulfilling system: their reservations are consumed, the order becomes partially fulfilled or fulfilled, the channel is told with the tracking (scope orders:write). The same shipment_id again changes nothing; 409 for a line already shipped or cancelled, or an order not released.",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["shipment_id", "lines"], "properties": {"shipment_id": {"type": "string", "minLength": 1, "maxLength": 100}, "lines": {"type": "array", "minItems": 1, "items": {"type": "string"}}, "tracking": {"type": "object", "required": ["carrier", "number"], "properties": {"carrier": {"type": "string"}, "number": {"type": "string"}, "url": {"type": "string"}}}}}}}},
        "responses": {
          "200": {"description": "The order after the shipment.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/orders/{id}/lines/cancel": {
      "post": {
        "summary": "Cancel lines that have not shipped: their stock is released, the fulfilling system and the channel are told (scope orders:write). Every line of an order that shipped nothing cancels the order.",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["lines", "reason"], "properties": {"lines": {"type": "array", "minItems": 1, "items": {"type": "string"}}, "reason": {"type": "string", "minLength": 1}}}}}},
        "responses": {
          "200": {"description": "The order after the cancellation.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/orders/{id}/pickup/picked": {
      "post": {
        "summary": "The store picked a pickup order: it is ready for pickup until the pickup window ends (scope orders:write; the key must be allowed to act for the pickup store).",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {
          "200": {"description": "The order, ready for pickup.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/orders/{id}/pickup/collected": {
      "post": {
        "summary": "The customer collected a pickup order: its reservations are consumed as a sale at the store (scope orders:write; the key must be allowed to act for the pickup store).",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {
          "200": {"description": "The order, collected.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/orders/{id}/pickup/not-collected": {
      "post": {
        "summary": "The customer did not come: the order is cancelled, its stock released and a refund is due (scope orders:write; the key must be allowed to act for the pickup store).",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"reason": {"type": "string"}}}}}},
        "responses": {
          "200": {"description": "The order, cancelled.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/stores/{id}/pickups": {
      "get": {
        "summary": "A store's pickup queue: released pickup orders to pick and picked ones waiting for their customer, with what to pick, for whom and until when, and those on hold because their units were sold at the till (scope orders:read; the key must be allowed to act for the store).",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The queue, oldest first.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PickupQueue"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/orders/{id}/validate": {
      "post": {
        "summary": "Run the validation gate again on an order on hold, after a fix (scope orders:write).",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"reason": {"type": "string"}}}}}},
        "responses": {
          "200": {"description": "The order after the gate.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/orders/search": {
      "get": {
        "summary": "Find orders by what a person at a till knows: the channel's order number (in any channel) or the customer's email (any case); newest first, at most 50 (scope orders:read).",
        "parameters": [
          {"name": "channel_order_id", "in": "query", "schema": {"type": "string"}},
          {"name": "customer_email", "in": "query", "schema": {"type": "string"}}
        ],
        "responses": {
          "200": {"description": "The orders found.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OrderSearch"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/returns": {
      "post": {
        "summary": "Take a return from any channel, for an order from any channel (by order_id or by its channel's number) or, where the policy allows, without one (scope returns:write). Each line is checked: returnable quantity, window, condition. 201 when authorized (its saga starts), 200 for a repeat, 422 with every refusal in `refusals`, 409 when the same return number came before with other content. `received: true` receives the items at once (a till).",
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReturnBody"}}}},
        "responses": {
          "200": {"description": "The return, taken before.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Return"}}}},
          "201": {"description": "The return, authorized now.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Return"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/returns/{id}": {
      "get": {
        "summary": "One return: its lines and amounts, where it stands (a pending refund says why), its saga, its refund job and its postings to the ERP (scope returns:read).",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The return.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Return"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/returns/{id}/receive": {
      "post": {
        "summary": "The receiving location confirms the items: restocked there, written off or held for inspection by each line's disposition; a store tender refund is recorded as paid (scope returns:write). Again changes nothing.",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"location": {"type": "string"}}}}}},
        "responses": {
          "200": {"description": "The return, received.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Return"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/returns/{id}/inspection": {
      "post": {
        "summary": "Decide a line held for inspection: restocked or written off at the location that received it (scope returns:write). The same decision again changes nothing; another one is a 409.",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["line", "outcome"], "properties": {
          "line": {"type": "integer", "minimum": 0, "description": "The line's index in the return."},
          "outcome": {"type": "string", "enum": ["restock", "damaged"]}, "note": {"type": "string"}}}}}},
        "responses": {
          "200": {"description": "The return after the decision.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Return"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/returns/{id}/void": {
      "post": {
        "summary": "Call off a return whose items have not come back; its units are returnable again (scope returns:write).",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string", "minLength": 1}}}}}},
        "responses": {
          "200": {"description": "The return, voided.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Return"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/journal/{id}": {
      "get": {
        "summary": "One journal entry with its lineage: its lines, the sources it was built from (order, return, event) and the ERP document it became (scope finance:read).",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The entry.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JournalEntry"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/finance/erp-diff": {
      "get": {
        "summary": "During an ERP migration: where the shadow ERP disagrees with the primary over the journal entries posted on some business days (missing documents, different totals), asking both ERPs (scope finance:read). 409 when no shadow ERP is configured.",
        "parameters": [
          {"name": "from", "in": "query", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}},
          {"name": "to", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}}
        ],
        "responses": {
          "200": {"description": "The comparison.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ERPDiff"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/finance/reconciliation": {
      "get": {
        "summary": "One location's business day in finance: the source documents' totals per tender and tax rate against what was booked and what was posted, and every document that differs (scope finance:read). Without location: the channels' entries that have none.",
        "parameters": [
          {"name": "day", "in": "query", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}},
          {"name": "location", "in": "query", "schema": {"type": "string"}}
        ],
        "responses": {
          "200": {"description": "The report.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FinanceReconciliation"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/prices": {
      "put": {
        "summary": "New prices for a channel and country, all or none: each becomes the next version of its SKU there, effective from `from` (default now) until `until` (scope prices:write; only the system of record, pricing.owner, when one is configured: others get a 403 naming it).",
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["channel", "country", "currency", "prices"], "properties": {
          "channel": {"type": "string"}, "country": {"type": "string", "pattern": "^[A-Z]{2}$"}, "currency": {"type": "string"},
          "prices": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {"type": "object", "required": ["sku", "price"], "properties": {
            "sku": {"type": "string"}, "price": {"$ref": "#/components/schemas/Amount"},
            "from": {"type": "string", "format": "date-time"}, "until": {"type": "string", "format": "date-time"}}}}}}}}},
        "responses": {
          "200": {"description": "The change: the versions recorded, and its state on its channel (pushed to the channel when the hub has it configured).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PriceChange"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      },
      "get": {
        "summary": "The price of a SKU on a channel in a country at a time (default now), with its version: past prices can be read back (scope prices:read).",
        "parameters": [
          {"name": "sku", "in": "query", "required": true, "schema": {"type": "string"}},
          {"name": "channel", "in": "query", "required": true, "schema": {"type": "string"}},
          {"name": "country", "in": "query", "required": true, "schema": {"type": "string"}},
          {"name": "at", "in": "query", "schema": {"type": "string", "format": "date-time"}}
        ],
        "responses": {
          "200": {"description": "The price.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Price"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/promotions": {
      "post": {
        "summary": "Create or change a promotion (scope prices:write; the system of record only, when configured). Its rules are checked: 422 with each problem; an exclusive promotion that could meet another exclusive one with the same priority is a 409 naming it. 201 created, 200 changed or repeated.",
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PromotionBody"}}}},
        "responses": {
          "200": {"description": "The promotion.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Promotion"}}}},
          "201": {"description": "The promotion, created.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Promotion"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/promotions/{id}": {
      "get": {
        "summary": "One promotion (scope prices:read).",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The promotion.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Promotion"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/pricing/observations": {
      "post": {
        "summary": "A price a channel shows (read back by its connector, or reported by the channel), checked against the book at that time: a difference is recorded as pricing.drift_detected and counted in tillwire_price_drift_total{channel} (scope prices:read).",
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["sku", "channel", "country", "currency", "price"], "properties": {
          "sku": {"type": "string"}, "channel": {"type": "string"}, "country": {"type": "string", "pattern": "^[A-Z]{2}$"}, "currency": {"type": "string"},
          "price": {"$ref": "#/components/schemas/Amount"}, "observed_at": {"type": "string", "format": "date-time"}}}}}},
        "responses": {
          "200": {"description": "The book's price and whether the channel drifted from it.", "content": {"application/json": {"schema": {"type": "object",
            "required": ["sku", "channel", "observed", "drift"], "properties": {"sku": {"type": "string"}, "channel": {"type": "string"},
            "observed": {"type": "string"}, "expected": {"type": "string"}, "expected_version": {"type": "integer"}, "drift": {"type": "boolean"}}}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/pricing/quote": {
      "post": {
        "summary": "Price a basket with the one engine every channel uses: unit prices, each discount with its promotion, tax per line by the country's rule, totals (scope prices:read). 422 when a SKU has no price or the country has no tax rule.",
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Basket"}}}},
        "responses": {
          "200": {"description": "The priced basket.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Quote"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/pricing/redemptions": {
      "post": {
        "summary": "At checkout: the basket priced now as by /v1/pricing/quote (no `at`), and the coupons that gave a discount redeemed for the order named in `reference`, once (scope orders:write). A coupon at its usage limit is refused in rejected_coupons, and checkouts racing for its last use cannot both get it. 409 when the reference redeemed already.",
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/Basket"}, {"required": ["reference"]}]}}}},
        "responses": {
          "200": {"description": "The priced basket.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Quote"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/pricing/changes/{id}": {
      "get": {
        "summary": "A price change (the id PUT /v1/prices answered with): its versions, and its state on its channel: pending until the channel acknowledges it, then live; failed with the reason when the push gave up (scope prices:read).",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The change.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PriceChange"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/jobs": {
      "get": {
        "summary": "Queued jobs in a state, oldest due first, each with why it is where it is (scope admin).",
        "parameters": [
          {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["pending", "running", "dead"]}, "description": "Default pending."},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}, "description": "At most this many (default 100)."}
        ],
        "responses": {
          "200": {"description": "The jobs.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobList"}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "429": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/jobs/{id}": {
      "get": {
        "summary": "One job, whatever its state: payload, last error, why it waits, its replays (scope admin).",
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
        "Location": {
          "type": "object",
          "required": [
            "id",
            "kind",
            "name"
          ],
          "properties": {
            "id": {
              "type": "string"
            },
            "kind": {
              "type": "string",
              "enum": [
                "store",
                "warehouse",
                "web"
              ]
            },
            "name": {
              "type": "string"
            }
          }
        },
        "LocationBody": {
          "type": "object",
          "required": [
            "kind",
            "name"
          ],
          "properties": {
            "kind": {
              "type": "string",
              "enum": [
                "store",
                "warehouse",
                "web"
              ]
            },
            "name": {
              "type": "string",
              "minLength": 1,
              "maxLength": 200
            }
          }
        },
        "LocationList": {
          "type": "object",
          "required": [
            "locations"
          ],
          "properties": {
            "locations": {
              "type": "array",
              "items": {
                "$ref": "#/components/schemas/Location"
              }
            }
          }
        },
        "ProductsBody": {
          "type": "object",
          "required": [
            "products"
          ],
          "properties": {
            "products": {
              "type": "array",
              "minItems": 1,
              "maxItems": 1000,
              "items": {
                "type": "object",
                "required": [
                  "sku",
                  "name"
                ],
                "properties": {
                  "sku": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  },
                  "name": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 500
                  },
                  "allow_backorder": {
                    "type": ["boolean", "null"],
                    "description": "Whether reservations may take its available-to-promise below zero. Omitted or null: false."
                  },
                  "categories": {
                    "type": ["array", "null"],
                    "maxItems": 50,
                    "description": "The categories the product is in, for promotions scoped by category. Omitted or null: the product keeps the categories it has.",
                    "items": {"type": "string", "minLength": 1, "maxLength": 100}
                  }
                }
              }
            }
          }
        },
        "ProductsResult": {
          "type": "object",
          "required": [
            "stored"
          ],
          "properties": {
            "stored": {
              "type": "integer"
            }
          }
        },
        "MovementsBody": {
          "type": "object",
          "required": [
            "movements"
          ],
          "properties": {
            "movements": {
              "type": "array",
              "minItems": 1,
              "maxItems": 1000,
              "items": {
                "type": "object",
                "required": [
                  "sku",
                  "location",
                  "delta",
                  "reason",
                  "occurred_at",
                  "source",
                  "source_key"
                ],
                "properties": {
                  "sku": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  },
                  "location": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  },
                  "delta": {
                    "type": "integer",
                    "minimum": -1000000,
                    "maximum": 1000000,
                    "not": {
                      "const": 0
                    },
                    "description": "Negative for sale, transfer_out, damage; positive for return, receipt, transfer_in; either for count_correction."
                  },
                  "reason": {
                    "type": "string",
                    "enum": [
                      "sale",
                      "return",
                      "receipt",
                      "transfer_out",
                      "transfer_in",
                      "damage",
                      "count_correction"
                    ]
                  },
                  "occurred_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "source": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  },
                  "source_key": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  },
                  "transfer_id": {"type": "string", "minLength": 1, "maxLength": 200, "description": "For transfer_out and transfer_in: the transfer they belong to; its units are in transit until received."},
                  "destination": {"type": "string", "minLength": 1, "maxLength": 200, "description": "For a transfer_out with a transfer_id: where the units go."},
                  "override_reason": {"type": "string", "minLength": 1, "maxLength": 125, "description": "For a sale at a store: sell units reserved for orders (a pickup waiting for its customer) anyway, for this reason (1-125 characters; recorded as inventory.reserved_stock_sold). Without it such a sale is refused with 422."}
                }
              }
            }
          }
        },
        "CountsBody": {
          "type": "object",
          "required": [
            "counts"
          ],
          "properties": {
            "counts": {
              "type": "array",
              "minItems": 1,
              "maxItems": 1000,
              "items": {
                "type": "object",
                "required": [
                  "sku",
                  "location",
                  "counted",
                  "as_of",
                  "source",
                  "source_key"
                ],
                "properties": {
                  "sku": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  },
                  "location": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  },
                  "counted": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 100000000
                  },
                  "as_of": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "source": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  },
                  "source_key": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  }
                }
              }
            }
          }
        },
        "Position": {
          "type": "object",
          "required": [
            "sku",
            "location",
            "on_hand",
            "reserved",
            "safety_stock",
            "available"
          ],
          "properties": {
            "sku": {
              "type": "string"
            },
            "location": {
              "type": "string"
            },
            "on_hand": {
              "type": "integer"
            },
            "reserved": {
              "type": "integer"
            },
            "safety_stock": {
              "type": "integer"
            },
            "available": {
              "type": "integer",
              "description": "Available to promise: on hand - reserved - safety stock."
            },
            "in_transit": {
              "type": "integer",
              "description": "On availability reads: shipped here by a transfer and not yet received."
            }
          }
        },
        "POSLogResult": {
          "type": "object",
          "required": [
            "version",
            "transactions",
            "applied",
            "duplicates",
            "recorded_only",
            "unmeasured_lines"
          ],
          "properties": {
            "version": {
              "type": "string",
              "enum": [
                "2",
                "6"
              ]
            },
            "transactions": {
              "type": "integer",
              "description": "Transactions in the document."
            },
            "applied": {
              "type": "integer",
              "description": "Retail transactions whose stock movements were recorded now."
            },
            "duplicates": {
              "type": "integer",
              "description": "Retail transactions seen before: nothing recorded again."
            },
            "recorded_only": {
              "type": "integer",
              "description": "Control transactions and transactions cancelled at the till: recorded, no stock moved."
            },
            "unmeasured_lines": {
              "type": "integer",
              "description": "Lines sold or returned by weight or measure: no units moved (the hub counts pieces)."
            }
          }
        },
        "ERPDiff": {
          "type": "object",
          "required": ["primary", "shadow", "from", "to", "compared", "agreeing", "not_posted_yet", "truncated", "differences"],
          "properties": {
            "primary": {"type": "string"},
            "shadow": {"type": "string"},
            "from": {"type": "string"},
            "to": {"type": "string"},
            "compared": {"type": "integer"},
            "agreeing": {"type": "integer"},
            "not_posted_yet": {"type": "integer"},
            "truncated": {"type": "boolean", "description": "More posted entries than one comparison takes (500): narrow the days."},
            "differences": {"type": "array", "items": {"type": "object", "required": ["entry", "business_day", "currency", "hub_total", "problem"], "properties": {
              "entry": {"type": "string"}, "business_day": {"type": "string"}, "location": {"type": ["string", "null"]}, "currency": {"type": "string"},
              "hub_total": {"type": "string"},
              "primary": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["document", "total"], "properties": {"document": {"type": "string"}, "total": {"type": "string"}}}]},
              "shadow": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["document", "total"], "properties": {"document": {"type": "string"}, "total": {"type": "string"}}}]},
              "problem": {"type": "string", "enum": ["missing in the shadow", "missing in the primary", "totals differ", "the primary's total differs from the hub's"]}}}}
          }
        },
        "BatchResult": {
          "type": "object",
          "required": [
            "results"
          ],
          "properties": {
            "results": {
              "type": "array",
              "items": {
                "type": "object",
                "required": [
                  "index",
                  "outcome",
                  "position"
                ],
                "properties": {
                  "index": {
                    "type": "integer"
                  },
                  "outcome": {
                    "type": "string",
                    "enum": [
                      "applied",
                      "already_applied",
                      "corrected",
                      "agreed"
                    ]
                  },
                  "correction": {
                    "type": [
                      "integer",
                      "null"
                    ]
                  },
                  "position": {
                    "$ref": "#/components/schemas/Position"
                  }
                }
              }
            }
          }
        },
        "Availability": {
          "type": "object",
          "required": [
            "as_of",
            "positions"
          ],
          "properties": {
            "as_of": {
              "type": "string",
              "format": "date-time"
            },
            "positions": {
              "type": "array",
              "items": {
                "$ref": "#/components/schemas/Position"
              }
            }
          }
        },
        "AvailabilityQuery": {
          "type": "object",
          "required": [
            "items"
          ],
          "properties": {
            "items": {
              "type": "array",
              "minItems": 1,
              "maxItems": 500,
              "items": {
                "type": "object",
                "required": [
                  "sku",
                  "location"
                ],
                "properties": {
                  "sku": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  },
                  "location": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  }
                }
              }
            }
          }
        },
        "ReserveBody": {
          "type": "object",
          "required": [
            "key",
            "order",
            "sku",
            "quantity"
          ],
          "properties": {
            "key": {
              "type": "string",
              "pattern": "^[A-Za-z0-9._:~-]{1,150}$",
              "description": "The reservation's idempotency key, e.g. shopify-450789469412345678-1."
            },
            "order": {
              "type": "string",
              "minLength": 1,
              "maxLength": 200
            },
            "sku": {
              "type": "string",
              "minLength": 1,
              "maxLength": 200
            },
            "quantity": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000000
            },
            "location": {
              "type": "string",
              "minLength": 1,
              "maxLength": 200
            },
            "candidates": {
              "type": "array",
              "maxItems": 50,
              "items": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200
              },
              "description": "Instead of location: pick among these by inventory.best_location."
            },
            "expires_in_seconds": {
              "type": "integer",
              "minimum": 1,
              "maximum": 2592000
            }
          }
        },
        "EndBody": {
          "type": "object",
          "properties": {
            "source": {
              "type": "string",
              "minLength": 1,
              "maxLength": 200
            },
            "source_key": {
              "type": "string",
              "minLength": 1,
              "maxLength": 200,
              "description": "Keys the sale a consumption records; default consumed/<key>."
            }
          }
        },
        "ExtendBody": {
          "type": "object",
          "required": [
            "expires_in_seconds"
          ],
          "properties": {
            "expires_in_seconds": {
              "type": "integer",
              "minimum": 1,
              "maximum": 2592000
            }
          }
        },
        "Reservation": {
          "type": "object",
          "required": [
            "key",
            "order",
            "sku",
            "location",
            "quantity",
            "state",
            "expires_at"
          ],
          "properties": {
            "key": {
              "type": "string"
            },
            "order": {
              "type": "string"
            },
            "sku": {
              "type": "string"
            },
            "location": {
              "type": "string"
            },
            "quantity": {
              "type": "integer"
            },
            "state": {
              "type": "string",
              "enum": [
                "active",
                "consumed",
                "released",
                "expired"
              ]
            },
            "expires_at": {
              "type": "string",
              "format": "date-time"
            },
            "position": {
              "oneOf": [
                {
                  "$ref": "#/components/schemas/Position"
                },
                {
                  "type": "null"
                }
              ]
            }
          }
        },
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
          "request_id": {"type": ["string", "null"]},
          "errors": {"type": ["array", "null"], "description": "Every bad item of a refused batch.", "items": {"type": "object", "required": ["index", "field", "detail"],
                     "properties": {"index": {"type": "integer"}, "field": {"type": "string"}, "detail": {"type": "string"}}}},
          "available": {"type": ["integer", "null"], "description": "With insufficient-stock: what is available."},
          "refusals": {"type": ["array", "null"], "description": "With return-refused: each refusal, with the line it concerns (null: the whole return).",
                       "items": {"type": "object", "required": ["code", "detail"], "properties": {"code": {"type": "string"}, "line": {"type": ["integer", "null"]}, "detail": {"type": "string"}}}}
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
      "OrderBody": {
        "type": "object",
        "required": ["channel", "channel_order_id", "placed_at", "currency", "taxes_included", "lines", "payments", "fulfilment", "total"],
        "properties": {
          "channel": {"type": "string"},
          "channel_order_id": {"type": "string", "description": "The channel's order id, as a string (never a number)."},
          "placed_at": {"type": "string", "format": "date-time"},
          "currency": {"type": "string", "description": "ISO 4217."},
          "taxes_included": {"type": "boolean"},
          "customer": {"type": "object", "properties": {"id": {"type": "string"}, "email": {"type": "string"}, "name": {"type": "string"}}},
          "ship_to": {"type": "object", "required": ["country"], "properties": {"country": {"type": "string"}, "region": {"type": "string"}, "postal_code": {"type": "string"}}},
          "lines": {"type": "array", "minItems": 1, "maxItems": 500, "items": {
            "type": "object", "required": ["id", "sku", "quantity", "unit_price"],
            "properties": {
              "id": {"type": "string"}, "sku": {"type": "string"},
              "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000},
              "unit_price": {"$ref": "#/components/schemas/Amount"},
              "discounts": {"type": "array", "items": {"$ref": "#/components/schemas/OrderDiscount"}},
              "tax_lines": {"type": "array", "items": {"$ref": "#/components/schemas/OrderTaxLine"}}
            }}},
          "shipping": {"type": "object", "required": ["price"], "properties": {
            "price": {"$ref": "#/components/schemas/Amount"},
            "discounts": {"type": "array", "items": {"$ref": "#/components/schemas/OrderDiscount"}},
            "tax_lines": {"type": "array", "items": {"$ref": "#/components/schemas/OrderTaxLine"}}}},
          "order_discounts": {"type": "array", "items": {"$ref": "#/components/schemas/OrderDiscount"}},
          "payments": {"type": "object", "required": ["authorized"], "properties": {
            "authorized": {"$ref": "#/components/schemas/Amount"}, "captured": {"$ref": "#/components/schemas/Amount"}, "refunded": {"$ref": "#/components/schemas/Amount"}}},
          "fulfilment": {"type": "object", "required": ["mode"], "properties": {
            "mode": {"type": "string", "enum": ["ship_from_dc", "ship_from_store", "pick_up_in_store"]}, "pickup_store": {"type": "string"}}},
          "total": {"$ref": "#/components/schemas/Amount"}
        }
      },
      "Amount": {"type": "string", "description": "A decimal amount in the order's currency, as platforms send it: \"19.99\"."},
      "OrderDiscount": {"type": "object", "required": ["amount"], "properties": {"amount": {"$ref": "#/components/schemas/Amount"}, "code": {"type": "string"}}},
      "OrderTaxLine": {"type": "object", "required": ["title", "amount"], "properties": {
        "title": {"type": "string"}, "rate_bp": {"type": "integer", "minimum": 0, "maximum": 10000, "description": "The rate in basis points: 2000 for 20 %."},
        "amount": {"$ref": "#/components/schemas/Amount"}}},
      "HoldReason": {"type": "object", "required": ["code", "detail"], "properties": {
        "code": {"type": "string", "enum": ["amounts_mismatch", "currency_mismatch", "tax_missing", "tax_inconsistent", "payment_not_authorized", "payment_not_captured", "unknown_sku", "not_sellable", "stock_not_reserved", "stock_oversold", "customer_incomplete"]},
        "detail": {"type": "string"}}},
      "Order": {
        "type": "object",
        "required": ["id", "channel", "channel_order_id", "status", "hold_reasons", "currency", "total", "fulfilment", "lines", "payments", "history", "releases", "shipments", "cancelled_lines"],
        "properties": {
          "id": {"type": "string"}, "channel": {"type": "string"}, "channel_order_id": {"type": "string"},
          "status": {"type": "string", "enum": ["captured", "validated", "allocated", "released", "partially_fulfilled", "fulfilled", "ready_for_pickup", "collected", "completed", "on_hold", "cancelled", "partially_returned", "returned"]},
          "held_from": {"type": ["string", "null"]},
          "hold_reasons": {"type": "array", "items": {"$ref": "#/components/schemas/HoldReason"}},
          "currency": {"type": "string"}, "total": {"type": "string"}, "fulfilment": {"type": "string"}, "pickup_store": {"type": ["string", "null"]},
          "lines": {"type": "integer"},
          "payments": {"type": "object", "required": ["authorized", "captured", "refunded"], "properties": {
            "authorized": {"type": "string"}, "captured": {"type": "string"}, "refunded": {"type": "string"}}},
          "history": {"type": "array", "items": {"type": "object", "required": ["at", "from", "to", "cause", "hold_reasons", "event_id"], "properties": {
            "at": {"type": "string", "format": "date-time"}, "from": {"type": "string"}, "to": {"type": "string"}, "cause": {"type": "string"},
            "hold_reasons": {"type": "array", "items": {"$ref": "#/components/schemas/HoldReason"}}, "event_id": {"type": "string"}}}},
          "events": {"type": ["array", "null"], "items": {"type": "object", "required": ["position", "type", "stream", "source", "occurred_at"], "properties": {
            "position": {"type": "integer"}, "type": {"type": "string"}, "stream": {"type": "string"}, "source": {"type": "string"},
            "occurred_at": {"type": "string", "format": "date-time"}}}},
          "releases": {"type": "array", "items": {"type": "object", "required": ["system", "document"], "properties": {
            "system": {"type": "string"}, "document": {"type": "string"}}}},
          "shipments": {"type": "array", "items": {"type": "object", "required": ["shipment", "lines"], "properties": {
            "shipment": {"type": "string"}, "lines": {"type": "array", "items": {"type": "string"}},
            "tracking": {"type": "object", "required": ["carrier", "number"], "properties": {"carrier": {"type": "string"}, "number": {"type": "string"}, "url": {"type": "string"}}}}}},
          "cancelled_lines": {"type": "object", "additionalProperties": {"type": "string"}},
          "reservations": {"type": "array", "items": {"type": "object", "required": ["id", "sku", "location", "quantity", "state"], "properties": {
            "id": {"type": "string"}, "sku": {"type": "string"}, "location": {"type": "string"}, "quantity": {"type": "integer"}, "state": {"type": "string"}}}},
          "jobs": {"type": "array", "items": {"type": "object", "required": ["id", "kind", "state", "attempts"], "properties": {
            "id": {"type": "string"}, "kind": {"type": "string"}, "state": {"type": "string"}, "attempts": {"type": "integer"}, "last_error": {"type": "string"}}}},
          "saga": {"type": "object", "required": ["run", "type", "state", "steps"], "properties": {
            "run": {"type": "string"}, "type": {"type": "string"}, "state": {"type": "string"}, "waiting_for": {"type": "string"},
            "waiting_until": {"type": "string", "format": "date-time"},
            "steps": {"type": "array", "items": {"type": "object", "required": ["name", "status"], "properties": {
              "name": {"type": "string"}, "status": {"type": "string"}, "detail": {"type": "string"}}}}}},
          "returns": {"type": "array", "description": "On a lookup: the order's returns that were not voided.", "items": {"type": "object", "required": ["id", "channel", "channel_return_id", "status"], "properties": {
            "id": {"type": "string"}, "channel": {"type": "string"}, "channel_return_id": {"type": "string"}, "status": {"type": "string"}}}},
          "postings": {"type": "array", "description": "On a lookup: the journal entries of its sales and of its returns, and where each went.", "items": {"$ref": "#/components/schemas/Posting"}}
        }
      },
      "StoreAgentReport": {
        "type": "object",
        "required": ["queue_depth", "forwarded_through", "refused"],
        "properties": {
          "queue_depth": {"type": "integer", "minimum": 0, "description": "Transactions taken at the store and not yet acknowledged by the hub."},
          "oldest_unsent_at": {"type": "string", "format": "date-time", "description": "When the oldest of them was taken at the till."},
          "forwarded_through": {"type": "integer", "minimum": 0, "description": "The agent's sequence number of the last transaction the hub acknowledged."},
          "refused": {"type": "integer", "minimum": 0, "description": "Transactions the hub refused for good."}
        }
      },
      "StoreAgentStatus": {
        "type": "object",
        "required": ["store", "status", "last_contact_at", "queue_depth", "forwarded_through", "refused", "alerted"],
        "properties": {
          "store": {"type": "string"},
          "status": {"type": "string", "enum": ["online", "offline"]},
          "last_contact_at": {"type": "string", "format": "date-time"},
          "offline_since": {"type": "string", "format": "date-time"},
          "queue_depth": {"type": "integer"},
          "oldest_unsent_at": {"type": "string", "format": "date-time"},
          "forwarded_through": {"type": "integer"},
          "refused": {"type": "integer"},
          "alerted": {"type": "boolean", "description": "The offline alert (store_agent.offline) was raised for the current outage."}
        }
      },
      "StoreAgentList": {
        "type": "object",
        "required": ["agents", "online", "offline"],
        "properties": {
          "agents": {"type": "array", "items": {"$ref": "#/components/schemas/StoreAgentStatus"}},
          "online": {"type": "integer"},
          "offline": {"type": "integer"}
        }
      },
      "StoreAgentFeed": {
        "type": "object",
        "required": ["store", "version", "more", "positions"],
        "properties": {
          "store": {"type": "string"},
          "version": {"type": "integer", "description": "The last event read: the next page's after."},
          "more": {"type": "boolean"},
          "positions": {"type": "array", "items": {"type": "object", "required": ["sku", "on_hand", "reserved", "safety_stock", "available"], "properties": {
            "sku": {"type": "string"}, "on_hand": {"type": "integer"}, "reserved": {"type": "integer"}, "safety_stock": {"type": "integer"}, "available": {"type": "integer"}}}}
        }
      },
      "PickupQueue": {
        "type": "object",
        "required": ["store", "pickups"],
        "properties": {
          "store": {"type": "string"},
          "pickups": {"type": "array", "items": {"type": "object", "required": ["order", "channel", "channel_order_id", "status", "lines"], "properties": {
            "order": {"type": "string"}, "channel": {"type": "string"}, "channel_order_id": {"type": "string"}, "status": {"type": "string"},
            "customer_name": {"type": "string"}, "customer_email": {"type": "string"}, "pickup_by": {"type": "string", "format": "date-time"},
            "hold_reasons": {"type": "array", "items": {"type": "string"}, "description": "Why the order is on hold: units reserved for it were sold at the till (docs/store-agent.md). Absent unless on hold."},
            "lines": {"type": "array", "items": {"type": "object", "required": ["id", "sku", "quantity"], "properties": {
              "id": {"type": "string"}, "sku": {"type": "string"}, "quantity": {"type": "integer"}}}}}}}
        }
      },
      "OrderSearch": {
        "type": "object",
        "required": ["orders"],
        "properties": {"orders": {"type": "array", "items": {"type": "object", "required": ["id", "channel", "channel_order_id", "status", "updated_at"], "properties": {
          "id": {"type": "string"}, "channel": {"type": "string"}, "channel_order_id": {"type": "string"}, "status": {"type": "string"},
          "updated_at": {"type": "string", "format": "date-time"}}}}}
      },
      "ReturnBody": {
        "type": "object",
        "required": ["channel", "channel_return_id", "refund", "lines"],
        "properties": {
          "channel": {"type": "string", "description": "Where the return is taken (a store's POS, a returns portal)."},
          "channel_return_id": {"type": "string", "minLength": 1, "maxLength": 100, "description": "The return's number there; the same number again is the same return."},
          "order_id": {"type": "string", "description": "The order returned, by the hub's id."},
          "order": {"type": "object", "required": ["channel", "channel_order_id"], "properties": {"channel": {"type": "string"}, "channel_order_id": {"type": "string"}},
                    "description": "The order returned, by its channel's number (instead of order_id)."},
          "location": {"type": "string", "description": "Where the items are received; required for a store tender refund."},
          "refund": {"type": "string", "enum": ["original_tender", "store_tender"]},
          "tender": {"type": "string", "description": "The tender a store tender refund is paid in (cash, card, gift_card)."},
          "currency": {"type": "string", "description": "For a return without an order: the currency of the receipt prices."},
          "received": {"type": "boolean", "description": "The items are handed over now (default false)."},
          "lines": {"type": "array", "minItems": 1, "maxItems": 500, "items": {"type": "object", "required": ["sku", "quantity", "reason", "condition"], "properties": {
            "order_line": {"type": "string", "description": "The order line returned."},
            "sku": {"type": "string"},
            "quantity": {"type": "integer", "minimum": 1},
            "reason": {"type": "string", "enum": ["changed_mind", "wrong_size", "defective", "arrived_damaged", "not_as_described", "other"]},
            "condition": {"type": "string", "enum": ["unopened", "opened", "damaged"]},
            "disposition": {"type": "string", "enum": ["restock", "damaged", "inspect"], "description": "Default: damaged for a damaged item, restock otherwise."},
            "unit_price": {"$ref": "#/components/schemas/Amount"},
            "tax_rate_bp": {"type": "integer", "minimum": 0, "maximum": 10000}}}}
        }
      },
      "Return": {
        "type": "object",
        "required": ["id", "channel", "channel_return_id", "status", "currency", "refund_method", "refund_total", "refund_tax", "shipping_refund", "lines", "authorized_at"],
        "properties": {
          "id": {"type": "string"}, "channel": {"type": "string"}, "channel_return_id": {"type": "string"}, "order_id": {"type": "string"},
          "status": {"type": "string", "enum": ["authorized", "refund_pending", "refunded", "completed", "voided"]},
          "currency": {"type": "string"}, "refund_method": {"type": "string"}, "refund_total": {"type": "string"}, "refund_tax": {"type": "string"},
          "shipping_refund": {"type": "string"},
          "lines": {"type": "array", "items": {"type": "object", "required": ["sku", "quantity", "reason", "condition", "disposition", "refund", "tax"], "properties": {
            "order_line": {"type": "string"}, "sku": {"type": "string"}, "quantity": {"type": "integer"}, "reason": {"type": "string"},
            "condition": {"type": "string"}, "disposition": {"type": "string"}, "refund": {"type": "string"}, "tax": {"type": "string"},
            "inspection": {"type": "string", "enum": ["pending", "restock", "damaged"]}}}},
          "received": {"type": "object", "required": ["location", "restocked", "written_off", "inspecting"], "properties": {
            "location": {"type": "string"}, "at": {"type": "string", "format": "date-time"},
            "restocked": {"type": "object", "additionalProperties": {"type": "integer"}},
            "written_off": {"type": "object", "additionalProperties": {"type": "integer"}},
            "inspecting": {"type": "object", "additionalProperties": {"type": "integer"}}}},
          "refund": {"type": "object", "required": ["amount", "method", "tender", "reference"], "properties": {
            "amount": {"type": "string"}, "method": {"type": "string"}, "tender": {"type": "string"}, "reference": {"type": "string"},
            "at": {"type": "string", "format": "date-time"}}},
          "refund_pending_reason": {"type": "string", "description": "Why a pending refund has not gone through: the refund job's last error."},
          "closed_reason": {"type": "string"},
          "authorized_at": {"type": "string", "format": "date-time"},
          "saga": {"type": "object"},
          "jobs": {"type": "array", "items": {"type": "object"}},
          "postings": {"type": "array", "items": {"$ref": "#/components/schemas/Posting"}}
        }
      },
      "Posting": {
        "type": "object",
        "required": ["entry", "kind", "business_day", "currency", "total", "state"],
        "properties": {
          "entry": {"type": "string"}, "kind": {"type": "string"}, "business_day": {"type": "string"}, "currency": {"type": "string"},
          "total": {"type": "string"}, "system": {"type": "string"}, "document": {"type": "string"}, "summary": {"type": "string"},
          "state": {"type": "string", "enum": ["pending", "posted", "in_daily_summary"]}
        }
      },
      "JournalEntry": {
        "type": "object",
        "required": ["id", "kind", "currency", "business_day", "memo", "lines", "sources", "recorded_at", "system", "state"],
        "properties": {
          "id": {"type": "string"}, "kind": {"type": "string", "enum": ["sale", "refund", "stock_correction", "summary"]},
          "currency": {"type": "string"}, "business_day": {"type": "string"}, "location": {"type": "string"}, "channel": {"type": "string"},
          "memo": {"type": "string"},
          "lines": {"type": "array", "items": {"type": "object", "required": ["account", "debit", "credit"], "properties": {
            "account": {"type": "string"}, "debit": {"type": "string"}, "credit": {"type": "string"}, "tax_rate_bp": {"type": "integer"},
            "tender": {"type": "string"}, "memo": {"type": "string"}}}},
          "sources": {"type": "array", "items": {"type": "object", "required": ["kind", "id"], "properties": {"kind": {"type": "string"}, "id": {"type": "string"}}}},
          "recorded_at": {"type": "string", "format": "date-time"}, "system": {"type": "string"},
          "state": {"type": "string", "enum": ["pending", "posted"]}, "document": {"type": "string"}, "found_by_reference": {"type": "boolean"},
          "summary": {"type": "string", "description": "The daily summary entry that carries it, for a location posted per day."},
          "source_events": {"type": "array", "items": {"type": "object", "required": ["position", "type", "stream", "source", "occurred_at"], "properties": {
            "position": {"type": "integer"}, "type": {"type": "string"}, "stream": {"type": "string"}, "source": {"type": "string"},
            "occurred_at": {"type": "string", "format": "date-time"}}}}
        }
      },
      "FinanceReconciliation": {
        "type": "object",
        "required": ["business_day", "documents", "totals", "differences"],
        "properties": {
          "location": {"type": "string"}, "business_day": {"type": "string"}, "documents": {"type": "integer"},
          "totals": {"type": "array", "items": {"type": "object", "required": ["currency", "source", "booked", "posted"], "properties": {
            "currency": {"type": "string"}, "tender": {"type": "string"}, "tax_rate_bp": {"type": "integer"},
            "source": {"type": "string"}, "booked": {"type": "string"}, "posted": {"type": "string"}}}},
          "differences": {"type": "array", "items": {"type": "object", "required": ["entry", "kind", "detail"], "properties": {
            "entry": {"type": "string"}, "kind": {"type": "string", "enum": ["unposted", "awaiting_day_close", "amount_differs", "source_missing"]},
            "detail": {"type": "string"}}}}
        }
      },
      "Price": {
        "type": "object",
        "required": ["sku", "channel", "country", "version", "price", "currency", "from"],
        "properties": {
          "sku": {"type": "string"}, "channel": {"type": "string"}, "country": {"type": "string"}, "version": {"type": "integer"},
          "price": {"type": "string"}, "currency": {"type": "string"}, "from": {"type": "string", "format": "date-time"},
          "until": {"type": "string", "format": "date-time"}
        }
      },
      "PriceChange": {
        "type": "object",
        "required": ["change", "channel", "country", "prices", "channels"],
        "properties": {
          "change": {"type": "string"}, "channel": {"type": "string"}, "country": {"type": "string"},
          "prices": {"type": "array", "items": {"$ref": "#/components/schemas/Price"}},
          "channels": {"type": "array", "description": "The channel's state when the hub pushes to it; empty when the channel is not configured.",
                       "items": {"$ref": "#/components/schemas/ChannelState"}}
        }
      },
      "ChannelState": {
        "type": "object",
        "required": ["channel", "state"],
        "properties": {"channel": {"type": "string"}, "state": {"type": "string", "enum": ["pending", "live", "failed"]}, "reason": {"type": "string"}}
      },
      "Basket": {
        "type": "object",
        "required": ["channel", "country", "currency", "lines"],
        "properties": {
          "channel": {"type": "string"}, "store": {"type": "string"}, "country": {"type": "string", "pattern": "^[A-Z]{2}$"}, "currency": {"type": "string"},
          "coupons": {"type": "array", "maxItems": 20, "items": {"type": "string", "minLength": 1, "maxLength": 50}}, "at": {"type": "string", "format": "date-time"},
          "reference": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$", "description": "For a redemption: the order the coupons are redeemed for."},
          "lines": {"type": "array", "minItems": 1, "maxItems": 500, "items": {"type": "object", "required": ["sku", "quantity"], "properties": {
            "sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
            "tax_rate_bp": {"type": "integer", "minimum": 0, "maximum": 10000}}}}
        }
      },
      "PromotionScope": {
        "type": "object",
        "description": "Where a promotion applies; a missing list means everywhere in that dimension.",
        "properties": {
          "channels": {"type": "array", "items": {"type": "string"}}, "stores": {"type": "array", "items": {"type": "string"}},
          "countries": {"type": "array", "items": {"type": "string"}}, "skus": {"type": "array", "items": {"type": "string"}},
          "categories": {"type": "array", "maxItems": 50, "items": {"type": "string", "minLength": 1, "maxLength": 100}}
        }
      },
      "PromotionBody": {
        "type": "object",
        "required": ["id", "name", "type", "from", "until"],
        "properties": {
          "id": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,100}$"}, "name": {"type": "string", "minLength": 1, "maxLength": 200},
          "type": {"type": "string", "enum": ["percent_off", "amount_off", "fixed_price", "buy_x_get_y", "bundle", "threshold"]},
          "currency": {"type": "string", "description": "For amounts and prices."},
          "basis_points": {"type": "integer", "description": "percent_off; buy_x_get_y (default 10000: free); threshold as a percentage."},
          "amount": {"$ref": "#/components/schemas/Amount"}, "price": {"$ref": "#/components/schemas/Amount"},
          "buy": {"type": "integer"}, "get": {"type": "integer"},
          "items": {"type": "array", "items": {"type": "object", "required": ["sku", "quantity"], "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer"}}}},
          "minimum": {"$ref": "#/components/schemas/Amount"},
          "scope": {"$ref": "#/components/schemas/PromotionScope"},
          "from": {"type": "string", "format": "date-time"}, "until": {"type": "string", "format": "date-time"},
          "priority": {"type": "integer", "minimum": -1000, "maximum": 1000},
          "stacking": {"type": "string", "enum": ["exclusive", "stackable"]},
          "coupon": {"type": "string"}, "usage_limit": {"type": "integer"}
        }
      },
      "Promotion": {
        "type": "object",
        "required": ["id", "name", "type", "scope", "from", "until", "priority", "stacking", "active", "channels"],
        "properties": {
          "id": {"type": "string"}, "name": {"type": "string"}, "type": {"type": "string"}, "scope": {"$ref": "#/components/schemas/PromotionScope"},
          "from": {"type": "string", "format": "date-time"}, "until": {"type": "string", "format": "date-time"}, "priority": {"type": "integer"},
          "stacking": {"type": "string"}, "coupon": {"type": "string"}, "usage_limit": {"type": "integer"}, "active": {"type": "boolean"},
          "activated_at": {"type": "string", "format": "date-time", "description": "When the window's start timer fired for the current version."},
          "ended_at": {"type": "string", "format": "date-time", "description": "When the window's end timer fired."},
          "channels": {"type": "array", "description": "Per configured channel it applies to: pending until the channel acknowledges the current version, then live; failed with the reason when the push gave up.",
                       "items": {"$ref": "#/components/schemas/ChannelState"}}
        }
      },
      "Quote": {
        "type": "object",
        "required": ["currency", "lines", "promotions", "rejected_coupons", "subtotal", "discount_total", "tax_total", "total", "taxes_included"],
        "properties": {
          "currency": {"type": "string"},
          "lines": {"type": "array", "items": {"type": "object", "required": ["sku", "quantity", "unit_price", "gross", "discounts", "net", "tax_rate_bp", "tax"], "properties": {
            "sku": {"type": "string"}, "quantity": {"type": "integer"}, "unit_price": {"type": "string"}, "gross": {"type": "string"},
            "discounts": {"type": "array", "items": {"type": "object", "required": ["promotion", "amount"], "properties": {"promotion": {"type": "string"}, "amount": {"type": "string"}}}},
            "net": {"type": "string"}, "tax_rate_bp": {"type": "integer"}, "tax": {"type": "string"}}}},
          "promotions": {"type": "array", "items": {"type": "object", "required": ["promotion", "amount"], "properties": {"promotion": {"type": "string"}, "amount": {"type": "string"}}}},
          "rejected_coupons": {"type": "object", "additionalProperties": {"type": "string"}},
          "subtotal": {"type": "string"}, "discount_total": {"type": "string"}, "tax_total": {"type": "string"}, "total": {"type": "string"},
          "taxes_included": {"type": "boolean"}
        }
      },
      "JobList": {
        "type": "object",
        "required": ["jobs"],
        "properties": {"jobs": {"type": "array", "items": {"$ref": "#/components/schemas/DeadLetter"}}}
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
