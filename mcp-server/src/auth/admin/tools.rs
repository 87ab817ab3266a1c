//! The admin operations as MCP tools ([`KeyAdmin::tools`], [`KeyAdmin::tools_with_secrets`]):
//! the same checks, the same operations, an admin event per call.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::body::{AdminError, parse};
use super::{Done, KeyAdmin, MAX_TARGET, may_administer, not_global_admin};
use crate::auth::{AuditAction, AuditEvent, AuthRejection, RejectionKind};
use crate::types::{CallToolResult, JsonObject, Tool, ToolAnnotations};
use crate::{BoxFuture, Context, ToolDef, ToolHandler};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    ListKeys,
    CreateKey,
    RotateKey,
    RevokeKey,
    ListUsers,
    DisableUser,
    EnableUser,
}

impl Op {
    fn action(self) -> AuditAction {
        match self {
            Op::ListKeys => AuditAction::KeyList,
            Op::CreateKey => AuditAction::KeyCreate,
            Op::RotateKey => AuditAction::KeyRotate,
            Op::RevokeKey => AuditAction::KeyRevoke,
            Op::ListUsers => AuditAction::UserList,
            Op::DisableUser => AuditAction::UserDisable,
            Op::EnableUser => AuditAction::UserEnable,
        }
    }

    /// The argument naming the target, if any.
    fn target_argument(self) -> Option<&'static str> {
        match self {
            Op::RotateKey | Op::RevokeKey => Some("id"),
            Op::DisableUser | Op::EnableUser => Some("name"),
            _ => None,
        }
    }
}

struct AdminTool {
    admin: Arc<KeyAdmin>,
    op: Op,
}

impl ToolHandler for AdminTool {
    fn call(
        &self,
        ctx: Context,
        arguments: Option<JsonObject>,
    ) -> BoxFuture<'static, CallToolResult> {
        let admin = Arc::clone(&self.admin);
        let op = self.op;
        Box::pin(async move { run(&admin, op, &ctx, arguments.unwrap_or_default()).await })
    }
}

/// The target argument, taken out of `args`: a string, required.
fn take_target(args: &mut Map<String, Value>, name: &'static str) -> Result<String, AdminError> {
    match args.remove(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(AdminError::invalid(
            name,
            format!("{name} must be a string"),
        )),
        None => Err(AdminError::invalid(name, format!("{name} is required"))),
    }
}

async fn run(
    admin: &KeyAdmin,
    op: Op,
    ctx: &Context,
    mut args: Map<String, Value>,
) -> CallToolResult {
    let target = op
        .target_argument()
        .map(|name| take_target(&mut args, name));
    let shown_target = match &target {
        Some(Ok(t)) => Some(t.chars().take(MAX_TARGET).collect::<String>()),
        _ => None,
    };
    let result = async {
        let caller = ctx.auth().ok_or_else(|| {
            AdminError::Auth(AuthRejection::plain(
                RejectionKind::Forbidden,
                http::StatusCode::FORBIDDEN,
                "forbidden",
                "authorization_required",
                "key administration needs authorization to be on",
            ))
        })?;
        let ladder = admin.keys.role_ladder();
        if !may_administer(ladder, caller) {
            return Err(not_global_admin(ladder));
        }
        let target = target.transpose()?;
        let target = target.as_deref().unwrap_or_default();
        match op {
            Op::ListKeys => {
                parse::<serde::de::IgnoredAny>(args, &[], &[])?;
                admin.list_keys().await
            }
            Op::CreateKey => admin.create_key(args, caller).await,
            Op::RotateKey => admin.rotate_key(target, args).await,
            Op::RevokeKey => {
                parse::<serde::de::IgnoredAny>(args, &[], &[])?;
                admin.revoke_key(target).await
            }
            Op::ListUsers => {
                parse::<serde::de::IgnoredAny>(args, &[], &[])?;
                admin.list_users().await
            }
            Op::DisableUser | Op::EnableUser => {
                parse::<serde::de::IgnoredAny>(args, &[], &[])?;
                admin.set_disabled(target, op == Op::DisableUser).await
            }
        }
    }
    .await;
    let mut e = AuditEvent::new(op.action()).caller(ctx.auth());
    e.surface = Some("mcp".to_owned());
    match result {
        Ok(Done { body, target, .. }) => {
            e.target = target.or(shown_target);
            e.outcome = Some("succeeded".to_owned());
            admin.tool_audit.record(e);
            CallToolResult::structured(body)
        }
        Err(err) => {
            e.target = shown_target;
            e.outcome = Some(
                if matches!(err, AdminError::Auth(_)) {
                    "denied"
                } else {
                    "failed"
                }
                .to_owned(),
            );
            e.reason = Some(err.reason().to_owned());
            admin.tool_audit.record(e);
            CallToolResult::error_text(err.message())
        }
    }
}

fn schema(properties: Value, required: &[&str]) -> JsonObject {
    let schema = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    match schema {
        Value::Object(m) => m,
        _ => JsonObject::new(),
    }
}

fn annotations(read_only: bool, destructive: bool, idempotent: bool) -> ToolAnnotations {
    ToolAnnotations {
        read_only_hint: Some(read_only),
        destructive_hint: Some(destructive),
        idempotent_hint: Some(idempotent),
        open_world_hint: Some(false),
        ..ToolAnnotations::default()
    }
}

impl KeyAdmin {
    fn tool(
        &self,
        op: Op,
        name: &str,
        description: &str,
        input: JsonObject,
        hints: ToolAnnotations,
    ) -> ToolDef {
        let tool = Tool {
            name: name.to_owned(),
            description: Some(description.to_owned()),
            input_schema: input,
            annotations: Some(hints),
            ..Tool::default()
        };
        ToolDef::new(
            tool,
            AdminTool {
                admin: Arc::new(self.clone()),
                op,
            },
        )
        .min_role(self.keys.role_ladder().highest())
    }

    /// The admin operations that never answer a secret, as MCP tools for the server's builder
    /// (`.tools(admin.tools())`): `admin_list_api_keys`, `admin_revoke_api_key` (`id`),
    /// `admin_list_users`, `admin_disable_user` and `admin_enable_user` (`name`). Each needs the
    /// ladder's highest role (`min_role`, so `tools/list` filtering hides them from others) and,
    /// like the REST routes, a credential that sees every workspace; each call is an admin
    /// event (`surface: "mcp"`) on the [`tool_audit_sink`](Self::tool_audit_sink) and
    /// `tracing`, beside the server's own `tool_call.*` events. Refusals and invalid arguments
    /// are tool errors naming the field. Users are not created over MCP (their password would
    /// pass through the client).
    pub fn tools(&self) -> Vec<ToolDef> {
        let none = schema(json!({}), &[]);
        let id = schema(
            json!({"id": {"type": "string", "description": "The key's id."}}),
            &["id"],
        );
        let user = schema(
            json!({"name": {"type": "string", "description": "The user's name."}}),
            &["name"],
        );
        vec![
            self.tool(
                Op::ListKeys,
                "admin_list_api_keys",
                "List every API key (never a secret): role, surfaces, workspaces, owner, times, \
                 status and an expiry warning for keys expiring soon.",
                none.clone(),
                annotations(true, false, true),
            ),
            self.tool(
                Op::RevokeKey,
                "admin_revoke_api_key",
                "Revoke an API key: it is refused from the next request on.",
                id,
                annotations(false, true, true),
            ),
            self.tool(
                Op::ListUsers,
                "admin_list_users",
                "List the users (never a password).",
                none,
                annotations(true, false, true),
            ),
            self.tool(
                Op::DisableUser,
                "admin_disable_user",
                "Disable a user: their user-owned API keys stop working.",
                user.clone(),
                annotations(false, true, true),
            ),
            self.tool(
                Op::EnableUser,
                "admin_enable_user",
                "Enable a disabled user again.",
                user,
                annotations(false, false, true),
            ),
        ]
    }

    /// [`tools`](Self::tools) and the two that answer a new secret: `admin_create_api_key`
    /// (the fields of `POST /keys`) and `admin_rotate_api_key` (`id`, `grace_seconds`). Their
    /// result holds the secret, once, as the REST response does: the MCP client receives it,
    /// and with an assistant in between, so does the model's context and whatever keeps it.
    /// Register them only where that is acceptable.
    pub fn tools_with_secrets(&self) -> Vec<ToolDef> {
        let mut tools = self.tools();
        let roles = self.keys.role_ladder().names().to_vec();
        let surfaces: Vec<&str> = self.surfaces.iter().map(|s| s.as_str()).collect();
        let duration = json!({"type": ["integer", "string"],
            "description": "Seconds, or a number followed by s, m, h or d (\"90d\")."});
        tools.push(self.tool(
            Op::CreateKey,
            "admin_create_api_key",
            "Create an API key. The result holds its secret, shown this once.",
            schema(
                json!({
                    "name": {"type": "string", "description": "A unique name: 1 to 64 of A-Z a-z 0-9 _ . -"},
                    "role": {"type": "string", "enum": roles},
                    "surfaces": {"type": "array", "items": {"type": "string", "enum": surfaces}, "minItems": 1},
                    "description": {"type": "string"},
                    "scopes": {"type": "array", "items": {"type": "string"}},
                    "workspaces": {"type": "array", "items": {"type": ["string", "object"]},
                        "description": "Workspace names (the key holds `role` in each), or {workspace, role}."},
                    "expires_in": duration,
                    "expires_at": {"type": "integer", "description": "Seconds since the epoch."},
                    "owner": {"type": "string", "description": "A user who owns the key."},
                    "service_account": {"type": ["boolean", "object"],
                        "description": "true (the key's own, the default) or {id, name}."},
                }),
                &["name", "role", "surfaces"],
            ),
            annotations(false, false, false),
        ));
        tools.push(self.tool(
            Op::RotateKey,
            "admin_rotate_api_key",
            "Give an API key a new secret (in the result, shown this once); the old one keeps \
             working for the grace period.",
            schema(
                json!({
                    "id": {"type": "string", "description": "The key's id."},
                    "grace_seconds": duration,
                }),
                &["id"],
            ),
            annotations(false, true, false),
        ));
        tools
    }
}
