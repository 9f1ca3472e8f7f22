package deps

import (
	_ "github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	_ "github.com/hashicorp/go-plugin"
	_ "github.com/robfig/cron/v3"
	_ "github.com/tetratelabs/wazero"
	_ "google.golang.org/grpc"
	_ "google.golang.org/protobuf/proto"
	_ "gopkg.in/yaml.v3"
	_ "modernc.org/sqlite"
)
