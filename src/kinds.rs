//! The model's shared vocabulary: technology fields, pipeline stages, business models, cluster
//! types and alliance kinds. Plain enums, used by the scenario, the mechanisms and the outputs.

/// Technology fields of the knowledge vector (MODEL.md, "Knowledge").
pub const FIELDS: [&str; 7] = [
    "antibodies",
    "cell_gene_therapy",
    "small_molecules",
    "vaccines",
    "diagnostics",
    "platforms_tools",
    "digital_health",
];
pub const N_FIELDS: usize = FIELDS.len();

/// A knowledge vector: one stock per technology field, in knowledge units.
pub type KnowledgeVec = [f64; N_FIELDS];

/// Drug development stages, in order. A project that passes `Filing` is approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Discovery,
    Preclinical,
    Phase1,
    Phase2,
    Phase3,
    Filing,
}

impl Stage {
    pub const ALL: [Stage; 6] =
        [Stage::Discovery, Stage::Preclinical, Stage::Phase1, Stage::Phase2, Stage::Phase3, Stage::Filing];
    pub const NAMES: [&'static str; 6] = ["discovery", "preclinical", "phase1", "phase2", "phase3", "filing"];

    pub fn index(self) -> usize {
        self as usize
    }
    pub fn name(self) -> &'static str {
        Self::NAMES[self.index()]
    }
    pub fn parse(s: &str) -> Option<Stage> {
        Self::NAMES.iter().position(|n| *n == s).map(|i| Self::ALL[i])
    }
    /// The next stage, or `None` after filing (approval).
    pub fn next(self) -> Option<Stage> {
        Self::ALL.get(self.index() + 1).copied()
    }
}

/// How a dedicated biotech firm earns its living (seed 003: Fisken & Rutherford; Pareras).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BusinessModel {
    /// Carries projects far and licenses or commercialises them.
    Product,
    /// Sells services and tools; licenses early for near-term revenue.
    Platform,
    /// Both.
    Hybrid,
}

impl BusinessModel {
    pub const ALL: [BusinessModel; 3] = [BusinessModel::Product, BusinessModel::Platform, BusinessModel::Hybrid];
    pub fn name(self) -> &'static str {
        match self {
            BusinessModel::Product => "product",
            BusinessModel::Platform => "platform",
            BusinessModel::Hybrid => "hybrid",
        }
    }
}

/// The survey's split of clusters. Only observation code reads it: no mechanism may (MODEL.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterType {
    GovernmentLed,
    PrivateLed,
}

impl ClusterType {
    pub fn name(self) -> &'static str {
        match self {
            ClusterType::GovernmentLed => "government_led",
            ClusterType::PrivateLed => "private_led",
        }
    }
}

/// Alliance kinds, in the survey's two categories (MODEL.md mechanism 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AllianceKind {
    // Technological cooperation.
    JointRd,
    Licensing,
    CoDevelopment,
    ContractResearch,
    UniversityCollaboration,
    // Non-technological cooperation.
    Marketing,
    Manufacturing,
    Distribution,
    Regulatory,
    Financing,
}

impl AllianceKind {
    pub const ALL: [AllianceKind; 10] = [
        AllianceKind::JointRd,
        AllianceKind::Licensing,
        AllianceKind::CoDevelopment,
        AllianceKind::ContractResearch,
        AllianceKind::UniversityCollaboration,
        AllianceKind::Marketing,
        AllianceKind::Manufacturing,
        AllianceKind::Distribution,
        AllianceKind::Regulatory,
        AllianceKind::Financing,
    ];
    pub fn is_tech(self) -> bool {
        matches!(
            self,
            AllianceKind::JointRd
                | AllianceKind::Licensing
                | AllianceKind::CoDevelopment
                | AllianceKind::ContractResearch
                | AllianceKind::UniversityCollaboration
        )
    }
    pub fn name(self) -> &'static str {
        match self {
            AllianceKind::JointRd => "joint_rd",
            AllianceKind::Licensing => "licensing",
            AllianceKind::CoDevelopment => "co_development",
            AllianceKind::ContractResearch => "contract_research",
            AllianceKind::UniversityCollaboration => "university_collaboration",
            AllianceKind::Marketing => "marketing",
            AllianceKind::Manufacturing => "manufacturing",
            AllianceKind::Distribution => "distribution",
            AllianceKind::Regulatory => "regulatory",
            AllianceKind::Financing => "financing",
        }
    }
}
