// The host steps in the order they run. To add one: a script in components/scripts, a module
// here exporting its HostStep, and a line in this list.
import { dockerEngineStep } from "./docker-engine";
import { factsStep } from "./facts";
import { hugepagesStep } from "./hugepages";
import { iscsiStep } from "./iscsi";
import { layoutStep } from "./layout";
import { mountsStep } from "./mounts";
import { nfsExportStep } from "./nfs-export";
import { parametersStep } from "./parameters";
import { rootStep } from "./root";
import { HostStep } from "./step";
import { workerStep } from "./worker";
import { workerPreflightStep } from "./worker-preflight";

export const HOST_STEPS: readonly HostStep[] = [
    // First, so its delete runs last: it removes the folders the other steps left empty.
    rootStep,
    factsStep,
    iscsiStep,
    mountsStep,
    layoutStep,
    // Serves the tree the layout step made and owned.
    nfsExportStep,
    // The parameter folder is on the big disk the mounts step guarded.
    parametersStep,
    hugepagesStep,
    dockerEngineStep,
    // The production worker: probes first (NFS folders, scheduler), then the service.
    workerPreflightStep,
    workerStep,
];
