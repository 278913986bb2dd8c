package main

// schemaJSON is a minimal package schema: the engine needs none of it to run the two
// resources; it names them and their properties for tools that ask (pulumi package get-schema).
const schemaJSON = `{
  "name": "command",
  "version": "1.2.1",
  "resources": {
    "command:local:Command": {
      "inputProperties": {
        "create": {"type": "string"}, "update": {"type": "string"}, "delete": {"type": "string"},
        "triggers": {"type": "array", "items": {"$ref": "pulumi.json#/Any"}, "replaceOnChanges": true},
        "environment": {"type": "object", "additionalProperties": {"type": "string"}},
        "interpreter": {"type": "array", "items": {"type": "string"}},
        "dir": {"type": "string"}, "stdin": {"type": "string"},
        "logging": {"type": "string"},
        "assetPaths": {"type": "array", "items": {"type": "string"}},
        "archivePaths": {"type": "array", "items": {"type": "string"}},
        "addPreviousOutputInEnv": {"type": "boolean"}
      },
      "properties": {
        "stdout": {"type": "string"}, "stderr": {"type": "string"},
        "assets": {"type": "object", "additionalProperties": {"$ref": "pulumi.json#/AssetOrArchive"}},
        "archive": {"$ref": "pulumi.json#/Archive"}
      },
      "required": ["stdout", "stderr"]
    },
    "command:remote:Command": {
      "inputProperties": {
        "connection": {"type": "object", "secret": true},
        "create": {"type": "string"}, "update": {"type": "string"}, "delete": {"type": "string"},
        "triggers": {"type": "array", "items": {"$ref": "pulumi.json#/Any"}, "replaceOnChanges": true},
        "environment": {"type": "object", "additionalProperties": {"type": "string"}},
        "stdin": {"type": "string"}, "logging": {"type": "string"},
        "addPreviousOutputInEnv": {"type": "boolean"}
      },
      "requiredInputs": ["connection"],
      "properties": {"stdout": {"type": "string"}, "stderr": {"type": "string"}},
      "required": ["connection", "stdout", "stderr"]
    }
  }
}`
