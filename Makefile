# Developer targets. CI does not need protoc: the generated code is committed.

.PHONY: proto
# proto regenerates the sink protocol's Go code. Needs protoc (apt-get install
# protobuf-compiler), protoc-gen-go and protoc-gen-go-grpc (go install).
proto:
	PATH="$$PATH:$$(go env GOPATH)/bin" protoc --proto_path=sdk/sink/sinkpb \
		--go_out=sdk/sink/sinkpb --go_opt=paths=source_relative \
		--go-grpc_out=sdk/sink/sinkpb --go-grpc_opt=paths=source_relative \
		sdk/sink/sinkpb/sink.proto

.PHONY: pgo
# pgo regenerates cmd/pbisync/default.pgo from the full-sync benchmark's CPU profiles.
pgo:
	bash cmd/pbisync/pgo.sh
