//! The built-in roles: canonical names, what each does, and the phrases
//! plans use for them.

/// One built-in role: canonical name, a one-line description, and the
/// phrases that mean it (matched after [`crate::normalise`]).
pub struct BuiltinRole {
    /// Canonical, lower-case name.
    pub name: &'static str,
    /// What an agent playing this role does.
    pub description: &'static str,
    /// Phrases that mean this role.
    pub aliases: &'static [&'static str],
}

/// Every role swarmd knows without configuration, in catalogue order.
pub const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        name: "devops",
        description: "builds, deploys and operates the delivery pipeline and infrastructure",
        aliases: &[
            "DevOps Engineer",
            "CI/CD Engineer",
            "CI/CD",
            "CICD Engineer",
            "Platform Engineer",
            "Infrastructure Engineer",
            "Release Engineer",
            "Ops",
        ],
    },
    BuiltinRole {
        name: "security",
        description: "audits code and configuration, hunts and fixes vulnerabilities",
        aliases: &[
            "Security Auditor",
            "Security Engineer",
            "Security Specialist",
            "Penetration Tester",
            "Pen Tester",
            "Pentester",
            "AppSec Engineer",
        ],
    },
    BuiltinRole {
        name: "sre",
        description: "keeps production observable and reliable: metrics, alerts, tracing, logs",
        aliases: &[
            "Site Reliability Engineer",
            "Reliability Engineer",
            "SRE Engineer",
        ],
    },
    BuiltinRole {
        name: "performance",
        description: "measures and improves latency, throughput and resource use",
        aliases: &["Performance Engineer", "Perf Engineer", "Load Tester"],
    },
    BuiltinRole {
        name: "backend",
        description: "writes and changes server-side application code and APIs",
        aliases: &[
            "Backend Developer",
            "Backend Engineer",
            "Back-end Developer",
            "Back-end Engineer",
            "API Developer",
        ],
    },
    BuiltinRole {
        name: "database",
        description: "designs schemas, tunes queries and indexes, runs backups and restores",
        aliases: &[
            "DB",
            "DBA",
            "Database Specialist",
            "Database Administrator",
            "Database Engineer",
        ],
    },
    BuiltinRole {
        name: "data-engineer",
        description: "builds and maintains data ingestion and transformation pipelines",
        aliases: &["Data Engineering", "ETL Engineer", "Data Pipeline Engineer"],
    },
    BuiltinRole {
        name: "coder",
        description: "implements and refactors code to a specification",
        aliases: &[
            "Developer",
            "Software Engineer",
            "Software Developer",
            "Programmer",
        ],
    },
    BuiltinRole {
        name: "reviewer",
        description: "reviews changes for correctness, clarity and compatibility",
        aliases: &["Code Reviewer"],
    },
    BuiltinRole {
        name: "tester",
        description: "writes and runs automated tests at every level",
        aliases: &["Test Engineer", "Test Automation Engineer"],
    },
    BuiltinRole {
        name: "qa",
        description: "validates the product end to end against its acceptance criteria",
        aliases: &[
            "QA Engineer",
            "Quality Assurance",
            "Quality Assurance Engineer",
        ],
    },
    BuiltinRole {
        name: "writer",
        description: "writes documentation, runbooks and guides",
        aliases: &[
            "Technical Writer",
            "Tech Writer",
            "Documentation Writer",
            "Docs Writer",
        ],
    },
    BuiltinRole {
        name: "architect",
        description: "owns the system's structure and the decisions that shape it",
        aliases: &[
            "Software Architect",
            "System Architect",
            "Systems Architect",
            "Solutions Architect",
        ],
    },
];
