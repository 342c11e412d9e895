//! The Redis store: commands on a connection from [`Connector`] (one server, a Cluster, or the
//! master named by Sentinels), timeouts on connect and on every command, Lua scripts for the
//! compare-and-* primitives so each is atomic.
//!
//! Every primitive touches exactly one key — each script and each transaction (`MULTI`) names a
//! single key — so in Cluster mode none of them spans slots. A primitive that ever needs several
//! keys together must give them one hash tag (`{…}`), so they share a slot.

use std::time::Duration;

use async_trait::async_trait;
use redis::{AsyncCommands, Script};

use super::redis_modes::{
    unavailable, Conn, Connector, RedisMode, RedisOptions, SetupError, Timeouts,
};
use super::{parse_cursor, Store, StoreError, StreamEntry, StreamTrim, Subscription, Versioned};

pub struct RedisStore {
    connector: Connector,
    timeouts: Timeouts,
    prefix: String,
    scripts: Scripts,
}

struct Scripts {
    compare_and_delete: Script,
    compare_and_expire: Script,
    put_versioned: Script,
    incr_with_ttl: Script,
    append_if_newer: Script,
    take_due: Script,
}

fn ms(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}

impl RedisStore {
    /// One Redis server by URL, without TLS files.
    pub fn new(
        url: &str,
        prefix: &str,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let options = RedisOptions {
            mode: RedisMode::Single(url.to_owned()),
            tls: Default::default(),
            connect_timeout,
            response_timeout,
        };
        Self::open(&options, prefix).map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Any mode. Nothing is connected yet: the first command connects.
    pub fn open(options: &RedisOptions, prefix: &str) -> Result<Self, SetupError> {
        Ok(RedisStore {
            connector: Connector::new(options)?,
            timeouts: Timeouts {
                connect: options.connect_timeout,
                response: options.response_timeout,
            },
            prefix: prefix.to_owned(),
            scripts: Scripts {
                compare_and_delete: Script::new(
                    r"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
                ),
                compare_and_expire: Script::new(
                    r"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end",
                ),
                put_versioned: Script::new(
                    r"local v = redis.call('HGET', KEYS[1], 'v')
                      if (ARGV[1] == '' and v == false) or (v ~= false and v == ARGV[1]) then
                        local n = (tonumber(v) or 0) + 1
                        redis.call('HSET', KEYS[1], 'v', n, 'd', ARGV[2])
                        redis.call('PEXPIRE', KEYS[1], ARGV[3])
                        return n
                      end
                      return 0",
                ),
                incr_with_ttl: Script::new(
                    r"local n = redis.call('INCR', KEYS[1])
                      if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
                      return n",
                ),
                append_if_newer: Script::new(
                    r"local last = redis.call('HGET', KEYS[2], ARGV[1])
                      if last and tonumber(last) >= tonumber(ARGV[2]) then return false end
                      redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
                      redis.call('PEXPIRE', KEYS[2], ARGV[6])
                      local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'v', ARGV[3])
                      redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[5])
                      redis.call('PEXPIRE', KEYS[1], ARGV[6])
                      return id",
                ),
                take_due: Script::new(
                    r"local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
                      for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], m) end
                      return due",
                ),
            },
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    async fn conn(&self) -> Result<Conn, StoreError> {
        self.connector.conn(&self.timeouts).await
    }
}

#[async_trait]
impl Store for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        let _: String = redis::cmd("PING")
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut c = self.conn().await?;
        c.get(self.key(key)).await.map_err(unavailable)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        let _: () = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(ms(ttl))
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        let r: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(ms(ttl))
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(r.is_some())
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        let n: u64 = c.del(self.key(key)).await.map_err(unavailable)?;
        Ok(n > 0)
    }

    async fn compare_and_delete(&self, key: &str, expected: &[u8]) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        let n: u64 = self
            .scripts
            .compare_and_delete
            .key(self.key(key))
            .arg(expected)
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(n > 0)
    }

    async fn compare_and_expire(
        &self,
        key: &str,
        expected: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        let n: u64 = self
            .scripts
            .compare_and_expire
            .key(self.key(key))
            .arg(expected)
            .arg(ms(ttl))
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(n > 0)
    }

    async fn get_versioned(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        let mut c = self.conn().await?;
        let (v, d): (Option<u64>, Option<Vec<u8>>) = redis::cmd("HMGET")
            .arg(self.key(key))
            .arg("v")
            .arg("d")
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        match (v, d) {
            (Some(version), Some(value)) => Ok(Some(Versioned { version, value })),
            (None, None) => Ok(None),
            _ => Err(StoreError::Corrupt("versioned record half-written".into())),
        }
    }

    async fn put_versioned(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        let mut c = self.conn().await?;
        let expected = expected.map(|v| v.to_string()).unwrap_or_default();
        let n: u64 = self
            .scripts
            .put_versioned
            .key(self.key(key))
            .arg(expected)
            .arg(value)
            .arg(ms(ttl))
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok((n > 0).then_some(n))
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, StoreError> {
        let mut c = self.conn().await?;
        self.scripts
            .incr_with_ttl
            .key(self.key(key))
            .arg(ms(ttl))
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)
    }

    async fn hash_set(
        &self,
        key: &str,
        field: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        let k = self.key(key);
        let _: () = redis::pipe()
            .atomic()
            .cmd("HSET")
            .arg(&k)
            .arg(field)
            .arg(value)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&k)
            .arg(ms(ttl))
            .ignore()
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn hash_get(&self, key: &str, field: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut c = self.conn().await?;
        c.hget(self.key(key), field).await.map_err(unavailable)
    }

    async fn hash_get_all(&self, key: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut c = self.conn().await?;
        let mut all: Vec<(String, Vec<u8>)> =
            c.hgetall(self.key(key)).await.map_err(unavailable)?;
        all.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(all)
    }

    async fn stream_append(
        &self,
        key: &str,
        value: &[u8],
        trim: StreamTrim,
    ) -> Result<String, StoreError> {
        let mut c = self.conn().await?;
        let k = self.key(key);
        let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
        let min_id = now_ms.saturating_sub(ms(trim.max_age));
        let (id,): (String,) = redis::pipe()
            .atomic()
            .cmd("XADD")
            .arg(&k)
            .arg("MAXLEN")
            .arg("~")
            .arg(trim.max_len.max(1))
            .arg("*")
            .arg("v")
            .arg(value)
            .cmd("XTRIM")
            .arg(&k)
            .arg("MINID")
            .arg("~")
            .arg(min_id)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&k)
            .arg(ms(trim.max_age))
            .ignore()
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(id)
    }

    async fn stream_append_if_newer(
        &self,
        key: &str,
        guard_key: &str,
        guard_field: &str,
        sequence: u64,
        value: &[u8],
        trim: StreamTrim,
    ) -> Result<Option<String>, StoreError> {
        let mut c = self.conn().await?;
        let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
        self.scripts
            .append_if_newer
            .key(self.key(key))
            .key(self.key(guard_key))
            .arg(guard_field)
            .arg(sequence)
            .arg(value)
            .arg(trim.max_len.max(1))
            .arg(now_ms.saturating_sub(ms(trim.max_age)))
            .arg(ms(trim.max_age))
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)
    }

    async fn stream_read(
        &self,
        key: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamEntry>, StoreError> {
        let start = match after {
            Some(a) => {
                let (ms, seq) = parse_cursor(a)?;
                format!("({ms}-{seq}")
            }
            None => "-".to_owned(),
        };
        let mut c = self.conn().await?;
        let rows: Vec<(String, Vec<(String, Vec<u8>)>)> = redis::cmd("XRANGE")
            .arg(self.key(key))
            .arg(start)
            .arg("+")
            .arg("COUNT")
            .arg(limit.max(1))
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        rows.into_iter()
            .take(limit)
            .map(|(id, fields)| {
                let value = fields
                    .into_iter()
                    .find(|(f, _)| f == "v")
                    .map(|(_, v)| v)
                    .ok_or_else(|| StoreError::Corrupt("stream entry without payload".into()))?;
                Ok(StreamEntry { cursor: id, value })
            })
            .collect()
    }
    async fn index_put(
        &self,
        key: &str,
        member: &str,
        score: i64,
        max_len: usize,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        let k = self.key(key);
        // Ranks count from the lowest score: keep the top `max_len`.
        let beyond = -(max_len.max(1) as i64) - 1;
        let _: () = redis::pipe()
            .atomic()
            .cmd("ZADD")
            .arg(&k)
            .arg(score)
            .arg(member)
            .ignore()
            .cmd("ZREMRANGEBYRANK")
            .arg(&k)
            .arg(0)
            .arg(beyond)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&k)
            .arg(ms(ttl))
            .ignore()
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn publish(&self, channel: &str, message: &[u8]) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        let _: u64 = c
            .publish(self.key(channel), message)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn index_remove(&self, key: &str, member: &str) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        let _: u64 = c.zrem(self.key(key), member).await.map_err(unavailable)?;
        Ok(())
    }

    async fn index_desc(
        &self,
        key: &str,
        max_score: i64,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut c = self.conn().await?;
        // Scores are whole numbers well inside a double's exact range.
        let rows: Vec<(String, f64)> = redis::cmd("ZREVRANGEBYSCORE")
            .arg(self.key(key))
            .arg(max_score)
            .arg("-inf")
            .arg("WITHSCORES")
            .arg("LIMIT")
            .arg(offset)
            .arg(limit.max(1))
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .take(limit)
            .map(|(member, score)| (member, score as i64))
            .collect())
    }

    async fn index_len(&self, key: &str) -> Result<u64, StoreError> {
        let mut c = self.conn().await?;
        c.zcard(self.key(key)).await.map_err(unavailable)
    }

    async fn schedule_put(
        &self,
        key: &str,
        member: &str,
        due_ms: i64,
        only_if_absent: bool,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        let k = self.key(key);
        let mut zadd = redis::cmd("ZADD");
        zadd.arg(&k);
        if only_if_absent {
            zadd.arg("NX");
        }
        // CH: count members whose score changed too, not only new ones.
        zadd.arg("CH").arg(due_ms).arg(member);
        let (changed,): (u64,) = redis::pipe()
            .atomic()
            .add_command(zadd)
            .cmd("PEXPIRE")
            .arg(&k)
            .arg(ms(ttl))
            .ignore()
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(changed > 0)
    }

    async fn schedule_take_due(
        &self,
        key: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut c = self.conn().await?;
        self.scripts
            .take_due
            .key(self.key(key))
            .arg(now_ms)
            .arg(lease_until_ms)
            .arg(limit.max(1))
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, StoreError> {
        let client = self.connector.pubsub_client().await?;
        super::pubsub::redis_subscribe(
            &client,
            &self.key(channel),
            self.timeouts.connect,
            self.timeouts.response,
        )
        .await
    }
}
