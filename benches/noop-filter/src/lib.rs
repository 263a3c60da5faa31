//! Pass-through proxy-wasm filter: every callback lets the request and response go on.
//! `body`: also read the request body into the VM, as a guard must (the copy alone).

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { read_body: false }) });
}}

struct Root {
    read_body: bool,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        self.read_body = self
            .get_plugin_configuration()
            .is_some_and(|c| c.as_slice() == b"body");
        true
    }

    fn create_http_context(&self, _id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Pass {
            read_body: self.read_body,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Pass {
    read_body: bool,
}

impl Context for Pass {}

impl HttpContext for Pass {
    fn on_http_request_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        if !self.read_body {
            return Action::Continue;
        }
        if !end_of_stream {
            return Action::Pause;
        }
        let _ = self.get_http_request_body(0, size);
        Action::Continue
    }
}
