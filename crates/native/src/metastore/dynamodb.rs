//! DynamoDB metastore with Go's table layout (`plugins/aws-v1/persistence/dynamodb.go`, which
//! libasherah uses, and `aws-v2/dynamodb/metastore`): table `EncryptionKey` by default, hash
//! key `Id` (S), range key `Created` (N, unix seconds), and the key record as the map
//! `KeyRecord` = `{Created: N, Key: S (base64), ParentKeyMeta: {KeyId: S, Created: N}}`, with
//! `Revoked: BOOL` only when true and `ParentKeyMeta` only when set. Reads are strongly
//! consistent; `load_latest` queries the id newest-first with limit 1; `store` is a put with
//! `attribute_not_exists(Id)`, so of two writers racing on one `(Id, Created)` exactly one
//! wins and the other gets `Ok(false)`. With `EnableRegionSuffix`, key ids carry the client's
//! region ([`Metastore::region_suffix`]). Calls run on the caller's thread under a deadline
//! ([`AwsRuntime`]); the table is not created here (Go does not create it either).
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use super::Metastore;
use crate::aws::{sdk_config, AwsRuntime};
use crate::config::DynamoDbConfig;
use crate::error::{Error, ErrorKind};
use crate::record::{EnvelopeKeyRecord, KeyMeta};

/// Go's default table name.
pub const DEFAULT_TABLE: &str = "EncryptionKey";

/// A metastore in one DynamoDB table.
pub struct DynamoDbMetastore {
    runtime: AwsRuntime,
    client: Client,
    table: String,
    region_suffix: Option<String>,
}

impl std::fmt::Debug for DynamoDbMetastore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoDbMetastore")
            .field("table", &self.table)
            .field("region_suffix", &self.region_suffix)
            .finish_non_exhaustive()
    }
}

impl DynamoDbMetastore {
    /// A client for the configured table; `timeout` bounds each operation. No network call
    /// is made here (unless the region must come from instance metadata).
    pub fn open(config: &DynamoDbConfig, timeout: Duration) -> Result<Self, Error> {
        let runtime = AwsRuntime::new(timeout, ErrorKind::Metastore, "DynamoDB")?;
        let base = runtime.run("configuration", async {
            Ok(sdk_config(config.region.as_deref(), config.profile.as_deref(), timeout).await)
        })?;
        let mut builder = aws_sdk_dynamodb::config::Builder::from(&base);
        if let Some(endpoint) = config.endpoint.as_deref().filter(|e| !e.is_empty()) {
            builder = builder.endpoint_url(endpoint);
        }
        let conf = builder.build();
        let region = conf.region().map(|r| r.as_ref().to_owned());
        if region.is_none() {
            return Err(Error::config(
                "DynamoDB needs a region: set DynamoDBRegion or AWS_REGION",
            ));
        }
        Ok(DynamoDbMetastore {
            runtime,
            client: Client::from_conf(conf),
            table: config
                .table_name
                .clone()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| DEFAULT_TABLE.to_owned()),
            region_suffix: if config.region_suffix { region } else { None },
        })
    }
}

impl Metastore for DynamoDbMetastore {
    fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        let call = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("Id", AttributeValue::S(id.to_owned()))
            .key("Created", AttributeValue::N(created.to_string()))
            .projection_expression("#k")
            .expression_attribute_names("#k", "KeyRecord")
            .consistent_read(true)
            .send();
        let item = self.runtime.run("GetItem", async {
            call.await
                .map_err(|e| self.runtime.error("GetItem", &e))
                .map(|out| out.item)
        })?;
        item.as_ref().map(decode_item).transpose()
    }

    fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        let call = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#i = :id")
            .expression_attribute_names("#i", "Id")
            .expression_attribute_names("#k", "KeyRecord")
            .expression_attribute_values(":id", AttributeValue::S(id.to_owned()))
            .projection_expression("#k")
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send();
        let items = self.runtime.run("Query", async {
            call.await
                .map_err(|e| self.runtime.error("Query", &e))
                .map(|out| out.items.unwrap_or_default())
        })?;
        items.first().map(decode_item).transpose()
    }

    fn store(&self, id: &str, created: i64, record: &EnvelopeKeyRecord) -> Result<bool, Error> {
        let call = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("Id", AttributeValue::S(id.to_owned()))
            .item("Created", AttributeValue::N(created.to_string()))
            .item("KeyRecord", AttributeValue::M(encode_record(record)))
            .condition_expression("attribute_not_exists(Id)")
            .send();
        self.runtime.run("PutItem", async {
            match call.await {
                Ok(_) => Ok(true),
                Err(e) => match e.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(_)) => Ok(false),
                    _ => Err(self.runtime.error("PutItem", &e)),
                },
            }
        })
    }

    fn region_suffix(&self) -> Option<&str> {
        self.region_suffix.as_deref()
    }
}

/// `KeyRecord` as Go's `dynamodbattribute.MarshalMap` writes it.
pub fn encode_record(record: &EnvelopeKeyRecord) -> HashMap<String, AttributeValue> {
    let mut m = HashMap::with_capacity(4);
    if record.revoked {
        m.insert("Revoked".into(), AttributeValue::Bool(true));
    }
    m.insert(
        "Created".into(),
        AttributeValue::N(record.created.to_string()),
    );
    m.insert(
        "Key".into(),
        AttributeValue::S(base64_simd::STANDARD.encode_to_string(&record.encrypted_key)),
    );
    if let Some(meta) = &record.parent_key_meta {
        let mut pm = HashMap::with_capacity(2);
        pm.insert("KeyId".into(), AttributeValue::S(meta.id.clone()));
        pm.insert(
            "Created".into(),
            AttributeValue::N(meta.created.to_string()),
        );
        m.insert("ParentKeyMeta".into(), AttributeValue::M(pm));
    }
    m
}

/// An item's `KeyRecord` back into a record; anything else in the item is ignored.
fn decode_item(item: &HashMap<String, AttributeValue>) -> Result<EnvelopeKeyRecord, Error> {
    let m = match item.get("KeyRecord") {
        Some(AttributeValue::M(m)) => m,
        _ => return Err(Error::metastore("DynamoDB item has no KeyRecord map")),
    };
    let revoked = match m.get("Revoked") {
        None | Some(AttributeValue::Null(_)) => false,
        Some(AttributeValue::Bool(b)) => *b,
        Some(_) => return Err(Error::metastore("KeyRecord.Revoked is not a boolean")),
    };
    let created = number(m.get("Created"), "KeyRecord.Created")?;
    let key = match m.get("Key") {
        Some(AttributeValue::S(s)) => crate::record::decode_base64_like_go(s.as_bytes())
            .ok_or_else(|| Error::metastore("KeyRecord.Key is not valid base64"))?,
        _ => return Err(Error::metastore("KeyRecord.Key is missing or not a string")),
    };
    let parent_key_meta = match m.get("ParentKeyMeta") {
        None | Some(AttributeValue::Null(_)) => None,
        Some(AttributeValue::M(pm)) => Some(KeyMeta {
            id: match pm.get("KeyId") {
                Some(AttributeValue::S(s)) => s.clone(),
                _ => {
                    return Err(Error::metastore(
                        "KeyRecord.ParentKeyMeta.KeyId is missing or not a string",
                    ))
                }
            },
            created: number(pm.get("Created"), "KeyRecord.ParentKeyMeta.Created")?,
        }),
        Some(_) => return Err(Error::metastore("KeyRecord.ParentKeyMeta is not a map")),
    };
    Ok(EnvelopeKeyRecord {
        revoked,
        created,
        encrypted_key: key,
        parent_key_meta,
    })
}

fn number(v: Option<&AttributeValue>, field: &'static str) -> Result<i64, Error> {
    match v {
        Some(AttributeValue::N(n)) => n
            .parse()
            .map_err(|_| Error::metastore(format!("{field} is not an integer"))),
        _ => Err(Error::metastore(format!(
            "{field} is missing or not a number"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_record_round_trips_in_gos_attribute_shape() {
        let record = EnvelopeKeyRecord {
            revoked: false,
            created: 1_700_000_040,
            encrypted_key: vec![1, 2, 3, 250],
            parent_key_meta: Some(KeyMeta {
                id: "_SK_s_p".into(),
                created: 1_700_000_000,
            }),
        };
        let m = encode_record(&record);
        assert!(!m.contains_key("Revoked"), "Go omits Revoked when false");
        assert_eq!(m["Created"], AttributeValue::N("1700000040".into()));
        assert_eq!(m["Key"], AttributeValue::S("AQID+g==".into()));
        let AttributeValue::M(pm) = &m["ParentKeyMeta"] else {
            panic!("ParentKeyMeta is a map")
        };
        assert_eq!(pm["KeyId"], AttributeValue::S("_SK_s_p".into()));
        assert_eq!(pm["Created"], AttributeValue::N("1700000000".into()));
        let mut item = HashMap::new();
        item.insert("KeyRecord".to_owned(), AttributeValue::M(m));
        assert_eq!(decode_item(&item).unwrap(), record);

        let sk = EnvelopeKeyRecord {
            revoked: true,
            parent_key_meta: None,
            ..record
        };
        let m = encode_record(&sk);
        assert_eq!(m["Revoked"], AttributeValue::Bool(true));
        assert!(!m.contains_key("ParentKeyMeta"));
        item.insert("KeyRecord".to_owned(), AttributeValue::M(m));
        assert_eq!(decode_item(&item).unwrap(), sk);
    }

    #[test]
    fn malformed_items_are_metastore_errors() {
        let mut item = HashMap::new();
        assert_eq!(decode_item(&item).unwrap_err().kind(), ErrorKind::Metastore);
        let mut m = HashMap::new();
        m.insert("Created".to_owned(), AttributeValue::S("x".into()));
        item.insert("KeyRecord".to_owned(), AttributeValue::M(m));
        assert_eq!(decode_item(&item).unwrap_err().kind(), ErrorKind::Metastore);
    }
}
