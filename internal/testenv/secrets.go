package testenv

import "strings"

// PlantedSecrets are twenty secrets of the kinds the detectors know, as
// they would appear in prompts, commands and tool output.
var PlantedSecrets = []struct{ Text, Secret string }{
	{"export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"},
	{"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
	{"key=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"},
	{`"private_key_id": "0123456789abcdef0123456789abcdef01234567"`, "0123456789abcdef0123456789abcdef01234567"},
	{"DefaultEndpointsProtocol=https;AccountName=x;AccountKey=" + strings.Repeat("Ab3+", 21) + "Ab==;", strings.Repeat("Ab3+", 21) + "Ab=="},
	{"client secret abc8Q~" + strings.Repeat("z", 34), "abc8Q~" + strings.Repeat("z", 34)},
	{"git clone https://ghp_" + strings.Repeat("a1B2", 9) + "@github.com/x/y", "ghp_" + strings.Repeat("a1B2", 9)},
	{"GITHUB_TOKEN=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123"},
	{"curl -H 'PRIVATE-TOKEN: glpat-xxxxxxxxxxxxxxxxxxxx' https://gitlab.example.com", "glpat-xxxxxxxxxxxxxxxxxxxx"},
	{"SLACK_BOT_TOKEN=xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp", "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"},
	{"post to https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXX", "hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXX"},
	{"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\n-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA7bq"},
	{"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAA"},
	{"token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl"},
	{"psql postgres://admin:S3cr3tPassw0rd@db.internal:5432/prod", "S3cr3tPassw0rd"},
	{"curl -H 'Authorization: Bearer sk-live-0123456789abcdefABCDEF'", "sk-live-0123456789abcdefABCDEF"},
	{"Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"},
	{"export DB_PASSWORD=hunter2hunter2", "hunter2hunter2"},
	{`{"api_key": "zq8t-92mf-77pa-q1x0"}`, "zq8t-92mf-77pa-q1x0"},
	{"./deploy --secret=Tr0ub4dor&3 --env prod", "Tr0ub4dor"},
}
