package pipes

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
)

// maxParams bounds a decoded parameter: the bootstrap values are small JSON objects.
const maxParams = 1 << 20

// DecodeParams decodes a bootstrap value as Dagster writes it into DAGSTER_PIPES_CONTEXT
// and DAGSTER_PIPES_MESSAGES: base64 of zlib-compressed JSON, holding a JSON object.
func DecodeParams(value string) (map[string]any, error) {
	raw, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not zlib data: %w", err)
	}
	defer zr.Close()
	data, err := io.ReadAll(io.LimitReader(zr, maxParams+1))
	if err != nil {
		return nil, fmt.Errorf("not zlib data: %w", err)
	}
	if len(data) > maxParams {
		return nil, fmt.Errorf("larger than %d bytes", maxParams)
	}
	var params map[string]any
	if err := json.Unmarshal(data, &params); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if params == nil {
		return nil, fmt.Errorf("not a JSON object: null")
	}
	return params, nil
}

// EncodeParams is the inverse of DecodeParams.
func EncodeParams(params map[string]any) (string, error) {
	data, err := json.Marshal(params)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
