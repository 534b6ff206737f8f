//! The member paths of an operation's input as the model writes them (`containerDefinitions[].image`,
//! `dockerLabels{}`), with the kind of each and the values an enum allows.

use crate::{Kind, Model, join};

impl Model {
    /// Every member path of `operation`'s input, looking into every structure, list item (`path[]`) and map
    /// value (`path{}`), each with the kind of shape it has, in the model's order: the tree a classification
    /// of the request's members must cover.
    pub fn member_paths(&self, operation: &str) -> Vec<(String, Kind)> {
        let mut paths = Vec::new();
        if let Some(input) = self.operations.get(operation) {
            self.collect_paths(&input.input, "", &mut Vec::new(), &mut paths);
        }
        paths
    }

    fn collect_paths(
        &self,
        shape_name: &str,
        path: &str,
        within: &mut Vec<String>,
        paths: &mut Vec<(String, Kind)>,
    ) {
        let Some(shape) = self.shapes.get(shape_name) else {
            return;
        };
        let kind = Kind::of(&shape.kind);
        if !path.is_empty() {
            paths.push((path.to_owned(), kind));
        }
        // A shape that contains itself is listed once, where it first appears.
        if within.iter().any(|s| s == shape_name) {
            return;
        }
        within.push(shape_name.to_owned());
        match kind {
            Kind::Structure => {
                for (name, member) in &shape.members {
                    self.collect_paths(&member.shape, &join(path, name), within, paths);
                }
            }
            Kind::List => {
                if let Some(item) = &shape.member {
                    self.collect_paths(&item.shape, &format!("{path}[]"), within, paths);
                }
            }
            Kind::Map => {
                if let Some(value) = &shape.value {
                    self.collect_paths(&value.shape, &format!("{path}{{}}"), within, paths);
                }
            }
            Kind::Scalar => {}
        }
        within.pop();
    }

    /// The values a member of `operation`'s input allows where the model gives it an enum (`networkMode`:
    /// `bridge`, `host`, ...), by a path as [`Model::member_paths`] writes it; `None` for any other member.
    pub fn allowed_values(&self, operation: &str, path: &str) -> Option<&[String]> {
        let mut shape = self.shapes.get(&self.operations.get(operation)?.input)?;
        for part in path.split('.') {
            let name = part.split(['[', '{']).next().unwrap_or(part);
            shape = self.shapes.get(&shape.members.get(name)?.shape)?;
            for c in part[name.len()..].chars() {
                let inner = match c {
                    '[' => shape.member.as_ref()?,
                    '{' => shape.value.as_ref()?,
                    _ => continue,
                };
                shape = self.shapes.get(&inner.shape)?;
            }
        }
        shape.allowed.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;

    #[test]
    fn member_paths_reach_every_leaf_of_the_request() {
        let paths = model().member_paths("RegisterTaskDefinition");
        let kind = |path: &str| paths.iter().find(|(p, _)| p == path).map(|(_, k)| *k);
        assert_eq!(kind("family"), Some(Kind::Scalar));
        assert_eq!(kind("containerDefinitions"), Some(Kind::List));
        assert_eq!(kind("containerDefinitions[]"), Some(Kind::Structure));
        assert_eq!(
            kind("containerDefinitions[].dockerLabels{}"),
            Some(Kind::Scalar)
        );
        assert_eq!(
            kind("containerDefinitions[].linuxParameters.capabilities.add[]"),
            Some(Kind::Scalar)
        );
        assert_eq!(
            kind("volumes[].efsVolumeConfiguration.authorizationConfig.iam"),
            Some(Kind::Scalar)
        );
        assert!(model().member_paths("NoSuchOperation").is_empty());
    }

    #[test]
    fn enums_are_found_by_member_path() {
        let model = model();
        let op = "RegisterTaskDefinition";
        let modes = model.allowed_values(op, "networkMode").unwrap_or_default();
        assert!(modes.iter().any(|m| m == "awsvpc"), "{modes:?}");
        let protocols = model
            .allowed_values(op, "containerDefinitions[].portMappings[].protocol")
            .unwrap_or_default();
        assert!(protocols.iter().any(|p| p == "udp"), "{protocols:?}");
        assert_eq!(model.allowed_values(op, "family"), None);
        assert_eq!(
            model.allowed_values(op, "containerDefinitions[].dockerLabels{}"),
            None
        );
        assert_eq!(model.allowed_values(op, "noSuchMember"), None);
    }
}
