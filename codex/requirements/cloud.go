package requirements

import (
	"encoding/json"
	"fmt"
)

// BundleFragment is one entry of requirements_toml.enterprise_managed in the
// cloud config bundle.
type BundleFragment struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Contents *string `json:"contents"`
}

// CloudBundle is the JSON body of GET {chatgpt_base_url}wham/config/bundle.
type CloudBundle struct {
	RequirementsToml *struct {
		EnterpriseManaged []BundleFragment `json:"enterprise_managed"`
	} `json:"requirements_toml"`
	ConfigToml *struct {
		EnterpriseManaged []BundleFragment `json:"enterprise_managed"`
	} `json:"config_toml"`
}

// ParseCloudBundle decodes a bundle body into requirements layers in
// delivery order (the first fragment has the highest precedence).
func ParseCloudBundle(data []byte) ([]Layer, error) {
	var b *CloudBundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("invalid cloud config bundle JSON: %w", err)
	}
	if b == nil || b.RequirementsToml == nil {
		return nil, nil
	}
	var layers []Layer
	for i, f := range b.RequirementsToml.EnterpriseManaged {
		if f.Contents == nil {
			return nil, fmt.Errorf("/requirements_toml/enterprise_managed/%d: missing field `contents`", i)
		}
		layers = append(layers, Layer{
			Source:   Source{Kind: CloudFragment, ID: f.ID, Name: f.Name},
			Contents: *f.Contents,
		})
	}
	return layers, nil
}
