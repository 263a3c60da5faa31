//! Pass-through proxy-wasm filter: every callback lets the request and response go on.
//! `body`: also read the request body into the VM, as a guard must (the copy alone).
//! `stream`: read every response body chunk into the VM and write it back, as a stream guard
//! must (the copies alone: the floor of a streamed response's cost under any Wasm guard).

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(Root { read_body: false, copy_response: false })
    });
}}

struct Root {
    read_body: bool,
    copy_response: bool,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let config = self.get_plugin_configuration().unwrap_or_default();
        self.read_body = config.as_slice() == b"body";
        self.copy_response = config.as_slice() == b"stream";
        true
    }

    fn create_http_context(&self, _id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Pass {
            read_body: self.read_body,
            copy_response: self.copy_response,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Pass {
    read_body: bool,
    copy_response: bool,
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

    fn on_http_response_body(&mut self, size: usize, _end_of_stream: bool) -> Action {
        if self.copy_response && size > 0 {
            if let Some(chunk) = self.get_http_response_body(0, size) {
                self.set_http_response_body(0, size, &chunk);
            }
        }
        Action::Continue
    }
}
